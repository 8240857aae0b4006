"""How much the `spatial_blocks` figures of the two shared cities depend on the one block partition they were scored with.

Run: `python benchmarks/block_sensitivity.py [--city chicago77|manhattan270 ...] [--seeds 5] [--block-seeds 10] [--stable]`
(from the repository root, with `../shared/data` beside the checkout). Writes `benchmarks/results/block_sensitivity.md`.

Neither shared folder has geometry, so `city_blocks` forms the blocks as communities of the trip graph (spectral
clustering). That clustering has a seed (`city_blocks(seed=...)`; the regions are clustered in the order of their ids,
so the order of the file's rows plays no part). The result files score every embedding on one partition, block seed 0.
Here the same embeddings (the default UrbanFusion recipe, one model per pre-training seed; with `--stable` also
the `--preset stable` recipe; and the raw-feature baselines) are scored on the partitions of other block seeds of
the same city. Nothing here reads a label before the probes, and no setting is chosen from these numbers: the script
only measures.
"""
from __future__ import annotations
import argparse, sys, time, warnings
from pathlib import Path
import numpy as np, pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import markdown_table, machine_note
from hafusion_cities import raw_baselines, fit_preset, stable_row
from recipe import CITIES, DEFAULT, load, fit

def describe(blocks:dict[str, pd.Series])->pd.DataFrame:
    "Per partition: its blocks, how many hold one region, the largest, and its agreement (adjusted Rand index) with the result files' partition."
    from sklearn.metrics import adjusted_rand_score
    ref = blocks["block seed 0"]
    rows = {}
    for name, b in blocks.items():
        sizes = b.value_counts()
        rows[name] = {"blocks": len(sizes), "blocks of one region": int((sizes == 1).sum()), "largest block": int(sizes.max()),
                      "ARI with block seed 0": f"{adjusted_rand_score(ref, b.loc[ref.index]):.3f}"}
    return pd.DataFrame(rows).T.rename_axis("partition")

RUN = " · pre-training seed "  # a learned row's runs are scored one by one, as rows named row + RUN + seed

def run(name:str, root:Path, seeds:int=5, block_seeds:int=10, stable:bool=False, log=print):
    from urbanlit.probes import evaluate, city_partitions
    import torch
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", category=FutureWarning)
    _, _, tasks = CITIES[name]
    city = load(name, root)
    t = time.time()
    learned = {DEFAULT: [fit(city, s).transform(city) for s in range(seeds)]}
    log(f"{name}: {seeds} default models in {time.time() - t:.0f} s")
    if stable:
        t = time.time()
        models = [fit_preset(city, "stable", s) for s in range(seeds)]
        learned[stable_row(models[0].n_members)] = [m.transform(city) for m in models]
        log(f"{name}: {seeds} models of the stable preset in {time.time() - t:.0f} s")
    embeddings = {**{f"{row}{RUN}{s}": e for row, runs in learned.items() for s, e in enumerate(runs)}, **raw_baselines(city)}
    blocks = dict(city_partitions(city, block_seeds, verbose=False).items())  # 'block seed 0', … -> block id per region
    scores = []
    for part, b in blocks.items():
        r2 = evaluate(embeddings, city.labels, tasks, protocol="spatial_blocks", groups=b)
        scores.append(r2[r2.metric == "r2"].assign(partition=part))
        log(f"{name}: scored on {part}")
    return pd.concat(scores, ignore_index=True), describe(blocks), tasks, list(learned)

def by_partition(scores:pd.DataFrame)->pd.DataFrame:
    "Per partition, embedding and task: the mean R², and for a learned row its population std over pre-training seeds (as `evaluate` gives them)."
    runs = scores.embedding.str.contains(RUN, regex=False)
    learned = scores[runs].assign(embedding=scores.embedding[runs].str.split(RUN, regex=False).str[0])
    learned = learned.groupby(["partition", "embedding", "task"], sort=False)["mean"].agg(mean="mean", std=lambda v: float(np.std(v))).reset_index()
    return pd.concat([learned, scores[~runs][["partition", "task", "embedding", "mean", "std"]]], ignore_index=True)

def summarise(scores:pd.DataFrame, tasks:list[str], learned:list[str])->tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(per embedding and task: R² on the result files' partition, and the mean, min and max over all partitions;
    per partition and learned row: its mean R² over tasks, the margin over the best raw baseline, its largest seed std;
    over all partitions at once: each pre-training seed's R² averaged over the partitions, then mean ± std over seeds)."""
    parts = by_partition(scores)
    cell = lambda s: f"{s.iloc[0]:.3f}; {s.mean():.3f} ({s.min():.3f} … {s.max():.3f})"
    per_task = parts.pivot_table(index="embedding", columns="task", values="mean", aggfunc=list, sort=False)
    table = pd.DataFrame({t: [cell(pd.Series(v)) for v in per_task[t]] for t in tasks}, index=per_task.index)
    means = parts.groupby(["partition", "embedding"], sort=False)["mean"].mean().unstack()
    raw = [c for c in means.columns if c not in learned]
    margin = pd.DataFrame({"best raw, mean R²": means[raw].max(axis=1), "best raw": means[raw].idxmax(axis=1)})
    for row in learned:
        short = "default" if row == DEFAULT else "stable"
        margin[f"{short}, mean R²"] = means[row]
        margin[f"{short}: margin"] = means[row] - means[raw].max(axis=1)
        margin[f"{short}: largest seed std"] = parts[parts.embedding == row].groupby("partition", sort=False)["std"].max()
    pooled = {}
    for row in learned:
        runs = scores[scores.embedding.str.startswith(row + RUN)].groupby(["embedding", "task"], sort=False)["mean"].mean().unstack()  # seed x task
        pooled[row] = {t: f"{runs[t].mean():.3f} ± {np.std(runs[t]):.3f}" for t in tasks} | {"mean R²": round(runs[tasks].mean(axis=1).mean(), 3),
                                                                                            "largest seed std": round(max(np.std(runs[t]) for t in tasks), 3)}
    over = parts[~parts.embedding.isin(learned)].groupby(["embedding", "task"], sort=False)["mean"].mean().unstack()
    for e in over.index: pooled[e] = {t: f"{over.loc[e, t]:.3f}" for t in tasks} | {"mean R²": round(over.loc[e, tasks].mean(), 3), "largest seed std": ""}
    return table, margin.round(3).rename_axis("partition"), pd.DataFrame(pooled).T.rename_axis("embedding")

def main(argv=None):
    from urbanlit.converters import find_shared_data
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--city", action="append", choices=list(CITIES), help="a shared city (repeatable; default both)")
    p.add_argument("--seeds", type=int, default=5, help="pre-training seeds of the default model")
    p.add_argument("--block-seeds", type=int, default=10, help="clustering seeds of the trip-graph blocks (0 is the result files')")
    p.add_argument("--stable", action="store_true", help="also the `--preset stable` recipe (as many members as the city needs: slower)")
    p.add_argument("--out-dir", default=str(Path(__file__).parent/"results"))
    a = p.parse_args(argv)
    if a.seeds < 2 or a.block_seeds < 2: p.error("--seeds must be ≥ 2 (a seed std), --block-seeds ≥ 2 (a spread over partitions)")
    root = find_shared_data()
    if root is None: print("skipped: ../shared/data not found (set URBANLIT_SHARED_DATA)"); return
    cities = a.city or list(CITIES)
    argv_note = " ".join([f"--city {c}" for c in (a.city or [])] + [f"--seeds {a.seeds} --block-seeds {a.block_seeds}"] + (["--stable"] if a.stable else []))
    parts, started = [], time.time()
    for name in cities:
        t = time.time()
        scores, info, tasks, learned = run(name, Path(root), a.seeds, a.block_seeds, a.stable)
        table, margin, pooled = summarise(scores, tasks, learned)
        parts += [f"## {name}", "", f"{time.time() - t:.0f} s.", "",
                  "R² under `spatial_blocks`, per task: on the result files' partition (block seed 0); the mean over all "
                  f"{len(info)} partitions (min … max). A learned row's cells are means over its {a.seeds} pre-training seeds.", "",
                  markdown_table(table.rename_axis("embedding")), "",
                  "Per partition: the best raw baseline's mean R² over the tasks, and each learned row's, its margin over that baseline and its "
                  "largest per-task seed std (population std, as in every result file).", "", markdown_table(margin), "",
                  "The partitions themselves:", "", markdown_table(info), "",
                  f"Averaged over all {len(info)} partitions: each pre-training seed's R² is the mean over the partitions, then mean ± std "
                  "(population) over the seeds; a raw baseline's R² is its mean over the partitions.", "", markdown_table(pooled), ""]
    text = "\n".join(["# How much the `spatial_blocks` figures depend on the block partition", "",
                      f"`python benchmarks/block_sensitivity.py {argv_note}` ({time.time() - started:.0f} s on {machine_note()}).", "",
                      __doc__.split("\n\n", 2)[2].replace("\n", " ").strip(), "", *parts])
    out = Path(a.out_dir)/"block_sensitivity.md"
    out.parent.mkdir(parents=True, exist_ok=True); out.write_text(text, encoding="utf-8")
    print(text)

if __name__ == "__main__": main()
