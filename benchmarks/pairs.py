"""Benchmark of MuseCL POI-similarity triplet construction (urbanlit.pairs) against dense N×N baselines.

Run: `python benchmarks/pairs.py [--sizes 10000 100000 1000000] [--dense 10000 20000]`.
Each case runs in its own subprocess so that its peak memory (ru_maxrss) is its own. Units get 244-d POI
category distributions drawn from a Dirichlet mixture (50 "land-use" prototypes, each unit a noisy
Dirichlet draw around its prototype), k_pos = k_neg = 10. Quality of the approximate search is measured
on 500 random anchors against the exact answer computed over all N units for those anchors:
recall@10 of the positives, and the mean/min share of all units closer to the anchor than its chosen
negatives (1.0 = the farthest unit).

Two dense baselines: `dense` is `triplets_from_features(method="dense")` (float64 similarity matrix, argsorts: the
straightforward port of the paper's equations), and `dense float32 + topk` the fastest dense form one would write
(float32 squared distances from one matrix product, `torch.topk` for the nearest and the farthest, subnormal inputs
set to zero first as urbanlit's searches do: the Dirichlet shares hold 3 % subnormal values, which slow a CPU matrix
product about 30x). Speed-ups are
given against the faster of the two, measured at the same N.
"""
from __future__ import annotations
import argparse, json, os, resource, statistics, subprocess, sys, time
from pathlib import Path
import numpy as np
from results import command_line, machine_note

K_POS = K_NEG = 10
DIM = 244
N_QUALITY = 500

def make_distributions(n:int, dim:int=DIM, seed:int=0, n_types:int=50, chunk:int=10_000)->np.ndarray:
    "(n, dim) float32 POI distributions from a Dirichlet mixture, generated in chunks to keep the peak low."
    rng = np.random.default_rng(seed)
    prototypes = rng.dirichlet(np.full(dim, 0.1), size=n_types)
    out = np.empty((n, dim), np.float32)
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        alpha = 50*prototypes[rng.integers(0, n_types, m)] + 0.02
        g = rng.standard_gamma(alpha)
        out[start:start + m] = g/g.sum(1, keepdims=True)
    return out

def rss_mb()->float: return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024

def quality(x:np.ndarray, index, rng)->dict:
    "Recall@k of positives and distance rank of negatives on a sample of anchors, against exact distances."
    import torch
    sample = rng.choice(len(index.anchors), size=min(N_QUALITY, len(index.anchors)), replace=False)
    anchors = index.anchors[sample]
    xt = torch.as_tensor(x)
    d = torch.cdist(xt[torch.as_tensor(anchors)], xt).numpy()
    d[np.arange(len(anchors)), anchors] = np.inf
    exact = np.argpartition(d, K_POS, axis=1)[:, :K_POS]
    recall = np.mean([len(set(a) & set(b))/K_POS for a,b in zip(exact, index.positives[sample])])
    d[np.arange(len(anchors)), anchors] = -np.inf
    neg_d = np.take_along_axis(d, index.negatives[sample], 1).min(1)  # the closest of the chosen negatives
    share = (d < neg_d[:, None]).sum(1)/(len(x) - 1)
    return {"recall": float(recall), "neg_rank_mean": float(share.mean()), "neg_rank_min": float(share.min())}

class DenseTopk:
    "The dense float32 baseline's result, shaped like a `TripletIndex` for `quality`."
    def __init__(self, x:np.ndarray):
        import torch
        from urbanlit.pairs import NEGLIGIBLE
        x = np.where(np.abs(x) < NEGLIGIBLE, 0, x).astype(np.float32)  # values whose products are subnormal slow CPU matrix products (zeroed as in urbanlit)
        xt = torch.as_tensor(x)
        sq = (xt*xt).sum(1)
        d2 = torch.addmm(sq[None, :] + sq[:, None], xt, xt.T, alpha=-2)  # squared distances, (N, N) float32
        d2.fill_diagonal_(float("inf"))
        self.positives = d2.topk(K_POS, dim=1, largest=False).indices.numpy()
        d2.fill_diagonal_(float("-inf"))
        self.negatives = d2.topk(K_NEG, dim=1, largest=True).indices.numpy()
        self.anchors = np.arange(len(x))

class FaissIVF:
    """The kept library's answer: faiss `IndexIVFFlat` (√N lists, trained on 32 rows per list, as urbanlit's k-means) for
    the positives, its `nprobe` calibrated like urbanlit's (the fewest probes whose recall on 512 random units, against
    their exact neighbours, reaches 0.95), and urbanlit's `pool_farthest` for the negatives (faiss has no farthest search)."""
    def __init__(self, x:np.ndarray, target:float=0.95, seed:int=0):
        import faiss, torch
        from urbanlit.pairs import pool_farthest, NEGLIGIBLE
        x = np.ascontiguousarray(np.where(np.abs(x) < NEGLIGIBLE, 0, x), dtype=np.float32)
        n = len(x); nlist = int(round(np.sqrt(n)))
        rng = np.random.default_rng(seed)
        index = faiss.IndexIVFFlat(faiss.IndexFlatL2(x.shape[1]), x.shape[1], nlist)
        index.train(x[rng.choice(n, min(n, 32*nlist), replace=False)])
        index.add(x)
        anchors = rng.choice(n, 512, replace=False)
        d = torch.cdist(torch.as_tensor(x[anchors]), torch.as_tensor(x)); d[torch.arange(512), torch.as_tensor(anchors)] = np.inf
        exact = torch.topk(d, K_POS, dim=1, largest=False).indices.numpy(); del d
        for nprobe in range(1, nlist + 1):
            index.nprobe = nprobe
            found = index.search(x[anchors], K_POS + 1)[1]
            recall = np.mean([len(set(a) & set(b))/K_POS for a,b in zip(exact, found)])
            if recall >= target: break
        found = index.search(x, K_POS + 1)[1]
        own = found == np.arange(n)[:, None]
        keep = np.where(own.any(1, keepdims=True), ~own, np.arange(K_POS + 1)[None, :] < K_POS)  # drop self, else the last
        self.positives = found[keep].reshape(n, K_POS)
        self.negatives = pool_farthest(x, K_NEG, exclude=self.positives, seed=seed)[0]
        self.anchors = np.arange(n)
        self.search = {"n_probe": nprobe, "estimated_recall": float(recall)}

def run_case(method:str, n:int, repeats:int, n_probe:int|None)->dict:
    "Time and peak memory of one case; runs inside a fresh subprocess."
    import torch
    from urbanlit.pairs import triplets_from_features
    x = make_distributions(n)
    base = rss_mb()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        index = DenseTopk(x) if method == "dense_topk" else FaissIVF(x) if method == "faiss" else triplets_from_features(x, K_POS, K_NEG, method=method, n_probe=n_probe, seed=0)
        times.append(time.perf_counter() - t)
    peak = rss_mb()
    q = quality(x, index, np.random.default_rng(1))
    search = getattr(index, "search", None) or {}
    return {"method": method, "n": n, "n_probe": search.get("n_probe"), "auto": n_probe is None and method == "approximate",
            "estimated_recall": search.get("estimated_recall"), "seconds": statistics.median(times),
            "repeats": repeats, "peak_mb": peak, "input_mb": x.nbytes/2**20, "extra_mb": peak - base, **q}

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--dense", type=int, nargs="*", default=[10_000, 20_000])
    parser.add_argument("--threads", type=int, default=None, help="torch threads per case (default: torch's choice)")
    parser.add_argument("--faiss", type=int, nargs="*", default=[100_000], help="sizes at which to run faiss IVF (if installed)")
    parser.add_argument("--n-probe", type=int, nargs="*", default=[], help="also run the approximate search with these fixed n_probe values")
    parser.add_argument("--case", nargs=4, help=argparse.SUPPRESS)  # method n repeats n_probe (internal; 0 = calibrated)
    args = parser.parse_args()
    if args.threads:
        import torch; torch.set_num_threads(args.threads)
    if args.case:
        method,n,repeats,n_probe = args.case
        print(json.dumps(run_case(method, int(n), int(repeats), int(n_probe) or None))); return
    cases = [("dense", n, 3 if n <= 10_000 else 1, 0) for n in args.dense] + [("dense_topk", n, 3, 0) for n in args.dense]
    for n in sorted(set(args.sizes) | set(args.dense)):
        if n <= 20_000: cases.append(("exact", n, 3, 0))
        else: cases += [("approximate", n, 1 if n >= 500_000 else 3, p) for p in [0, *args.n_probe]]
    try: import faiss  # noqa: F401  (optional: the kept library the table compares with)
    except ImportError: args.faiss = []; print("faiss is not installed: no faiss rows", file=sys.stderr)
    cases += [("faiss", n, 1 if n >= 500_000 else 3, 0) for n in args.faiss]
    rows = []
    for method,n,repeats,n_probe in cases:
        print(f"running {method} N={n} n_probe={n_probe or 'calibrated'} ...", file=sys.stderr, flush=True)
        threads = ["--threads", str(args.threads)] if args.threads else []
        t = time.perf_counter()
        out = subprocess.run([sys.executable, __file__, "--case", method, str(n), str(repeats), str(n_probe), *threads],
                             capture_output=True, text=True)
        print(f"  done in {time.perf_counter() - t:.0f} s", file=sys.stderr, flush=True)
        if out.returncode != 0:
            print(out.stderr[-2000:], file=sys.stderr); rows.append({"method": method, "n": n, "error": out.stderr.strip().splitlines()[-1]}); continue
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    dense = {}  # the faster dense baseline at each N
    for r in rows:
        if r["method"] in ("dense", "dense_topk") and "error" not in r and (r["n"] not in dense or r["seconds"] < dense[r["n"]]["seconds"]): dense[r["n"]] = r
    lines = [f"# Pair construction: POI-similarity triplets (k_pos = k_neg = {K_POS}, {DIM}-d distributions)", "",
             command_line("pairs.py", sys.argv[1:]), "",
             f"Machine at the end: {machine_note()}; the faiss rows use faiss's own OpenMP threads (all cores). "
             "Time: median of the repeats (1 run at 1M). Peak = process ru_maxrss (includes Python, torch and the input); "
             "extra = peak minus the RSS after generating the input. Recall@10 and negative rank are measured on "
             f"{N_QUALITY} random anchors against exact distances to all N units (negative rank = share of units closer to the "
             "anchor than its closest chosen negative; 1.0 = farthest).", "",
             "| method | N | n_probe | estimated recall (calibration sample) | repeats | time (s) | speed-up vs the faster dense | peak RSS (MB) | extra over input (MB) | input (MB) | recall@10 | neg. rank mean | neg. rank min |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        if "error" in r: lines.append(f"| {r['method']} | {r['n']:,} | | | | failed: {r['error']} | | | | | | | |"); continue
        ratio = f"{dense[r['n']]['seconds']/r['seconds']:.1f}×" if r["n"] in dense else "n/a (dense does not fit)" if r["n"] > 20_000 else ""
        name = {"dense_topk": "dense float32 + topk", "faiss": "faiss IVFFlat"}.get(r["method"], r["method"])
        probe = f"{r['n_probe']} ({'calibrated' if r.get('auto') or r['method'] == 'faiss' else 'fixed'})" if r.get("n_probe") else ""
        est = f"{r['estimated_recall']:.3f}" if r.get("estimated_recall") is not None else ""
        lines.append(f"| {name} | {r['n']:,} | {probe} | {est} | {r['repeats']} | {r['seconds']:.2f} | {ratio} | {r['peak_mb']:,.0f} | "
                     f"{r['extra_mb']:,.0f} | {r['input_mb']:,.0f} | {r['recall']:.3f} | {r['neg_rank_mean']:.4f} | {r['neg_rank_min']:.4f} |")
    lines += ["", "Dense N×N at 100k would need 80 GB (float64) for the similarity matrix alone and is not run.",
              "`exact` = blocked matrix products with a running top-k (urbanlit.pairs.k_nearest); `approximate` = k-means "
              "inverted file for the nearest (ivf_nearest, n_lists ≈ √N, n_probe calibrated on 512 units to reach recall 0.95 "
              "unless fixed) and a random candidate pool of 1024 per block of 1024 anchors for the farthest (pool_farthest). "
              "`faiss IVFFlat`: see `FaissIVF` in this script (faiss probes cells per query, urbanlit per cell of queries, "
              "which lets it scan a whole cell's queries with one matrix product)."]
    table = "\n".join(lines)
    print(table)
    out = Path(__file__).parent/"results"/"pairs.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(table + "\n")

if __name__ == "__main__": main()
