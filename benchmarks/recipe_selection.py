"""Which UrbanFusion recipe a label-free criterion chooses, on the two shared real cities: the default and its one-change
neighbours, scored by what the embedding keeps of its own inputs and by how much it depends on the seed.

Run: `python benchmarks/recipe_selection.py [--city chicago77|manhattan270 ...] [--seeds 3]` (from the repository
root, with `../shared/data` beside the checkout or `$URBANLIT_SHARED_DATA` set). Writes
`benchmarks/results/recipe_selection.md` (all cities given, in one table).

The rule never reads a label. It is in its third version, and each revision was made after the previous version's
choice had been scored on the labels of these two cities, so they are not a clean test of it (the cities outside
shared/ are):

- first version (stop 23): retention read by a fixed Ridge(1) on the embedding as it is, which rewards a large norm;
  it chose the released network, which every scale-free label probe ranks near the bottom;
- second version (stop 28): retention read by the evaluation's scale-free probe; it chose 128-d tokens, a wider
  embedding that retains more of its inputs but that a probe on 77 or 270 regions cannot use (the labels rank it
  below the default on both cities);
- this version compares every candidate at the default's output dimension, and leaves output scaling out of the
  choice, since a scale-free criterion cannot see it.

The rule:

1. *retention*: `urbanlit.probes.input_retention` under `spatial_blocks` (the evaluation's own scale-free probe: one
   global scale, α by inner block CV, whole blocks out of fold) of the embedding's leading principal components, as
   many as the default recipe's output has dimensions (64; for a 64-d embedding this is the embedding itself up to a
   rotation, which the probe does not see), against the 16 leading principal components of each modality's inputs as
   the default recipe prepares them (the same targets for every candidate), averaged over modalities; then over seeds
   and cities;
2. *seed agreement*: linear CKA between the embeddings of two pre-training seeds, averaged over seed pairs and cities;
   candidates below 0.9 are out;
3. output scaling is fixed in advance, not chosen: the embedding is put on the unit sphere because the contrastive
   loss it is trained with compares directions only (cosine similarities), so its length carries nothing trained,
   and a scale-free criterion cannot tell the two apart. The "h as it is" row is reported, not eligible;
4. the one-standard-error rule: the eligible candidates whose retention is within one standard error (over seeds,
   combined over cities) of the best are tied, and the tie goes to the simplest, the fewest parameters per network (an
   ensemble of identical networks counts as one), then to the higher retention.

The label scores beside them (mean R² over the city's tasks, literature protocol and `spatial_blocks`) are reported to
show whether the criterion points the right way; they do not enter the choice. Neither do three other label-free
columns: the first and second versions' retention, and the retention of the embedding's 16 leading principal
components only.
"""
from __future__ import annotations
import argparse, itertools, sys, time, warnings
from pathlib import Path
import numpy as np, pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import markdown_table, machine_note
from recipe import CITIES, load

MIN_AGREEMENT = 0.9
FIXED_IN_ADVANCE = {"h as it is (no sphere)": "output scaling is fixed in advance (the unit sphere)"}  # reported, not eligible

def candidates()->dict:
    "Name -> config overrides: the default and one change of it per row."
    from urbanlit.urbanfusion import UrbanFusionConfig
    released = UrbanFusionConfig.paper().to_dict()
    released.pop("train")
    return {"default": {}, "λ = 0.25": dict(recon_weight=0.25), "λ = 0.5": dict(recon_weight=0.5), "λ = 0.9": dict(recon_weight=0.9),
            "32-d tokens": dict(dim=32, projection_dim=16), "128-d tokens": dict(dim=128, projection_dim=64), "2 blocks": dict(depth=2),
            "one member": dict(members=1), "h as it is (no sphere)": dict(output="raw"), "count vectors as they are": dict(count_transform="none"),
            "the released network, this schedule": {**released, "schedule": "auto"}}

def linear_cka(a:np.ndarray, b:np.ndarray)->float:
    "Linear centred kernel alignment of two embeddings of the same rows (1: equal up to rotation and scale)."
    a, b = a - a.mean(0), b - b.mean(0)
    cross = np.linalg.norm(a.T @ b) ** 2
    return float(cross / (np.linalg.norm(a.T @ a) * np.linalg.norm(b.T @ b)))

def retention_inputs(city, modalities:list)->dict:
    "Modality name -> its inputs as the default recipe prepares them, on the units that have it: the same targets for every candidate."
    from urbanlit.inputs import modality_features
    from urbanlit.urbanfusion import UrbanFusionConfig
    feats = modality_features(city, modalities, count_transform=UrbanFusionConfig().count_transform, progress=False)
    return {name: pd.DataFrame(f.values[f.available], index=f.region_ids[f.available]) for name, f in feats.items()}

def retention(inputs:dict, embedding:pd.DataFrame, blocks:pd.Series|None=None)->float:
    """Mean over modalities of `input_retention` against `inputs` (`retention_inputs`), each on the units that have the
    modality; under `spatial_blocks` over `blocks`, or (None) as its first version read it."""
    from urbanlit.probes import input_retention, get_protocol
    protocol = get_protocol("random_kfold").replace(alpha=1.0, scale="none", repeats=1) if blocks is None else "spatial_blocks"
    return float(np.mean([input_retention(embedding.loc[values.index], {name: values}, protocol=protocol, groups=blocks)[name]
                          for name, values in inputs.items()]))

def leading_components(embedding:pd.DataFrame, k:int=16)->pd.DataFrame:
    "The embedding's `k` leading principal components (scores), fitted on all its units."
    from sklearn.decomposition import PCA
    return pd.DataFrame(PCA(min(k, *embedding.shape), random_state=0).fit_transform(embedding.to_numpy(np.float64)), index=embedding.index)

def parameters_per_network(model)->int:
    "Trainable parameters of one network of the model (one ensemble member)."
    net = model.net.members[0] if hasattr(model.net, "members") else model.net
    return int(sum(p.numel() for p in net.parameters() if p.requires_grad))

def run(name:str, root:Path, seeds:int, log=print)->pd.DataFrame:
    from urbanlit.urbanfusion import UrbanFusion, UrbanFusionConfig
    from urbanlit.train import TrainConfig
    from urbanlit.probes import evaluate, city_blocks
    import torch
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", category=FutureWarning)
    _, protocol, tasks = CITIES[name]
    city = load(name, root)
    blocks = city_blocks(city, verbose=False)
    inputs = None  # the default recipe's inputs, read once the first model names its modalities
    rows = {}
    for cand, over in candidates().items():
        t = time.time()
        models = [UrbanFusion(train=TrainConfig(seed=s, progress=False, device="cpu"), **over).fit(city) for s in range(seeds)]
        embs = [m.transform(city) for m in models]
        if inputs is None: inputs = retention_inputs(city, models[0].net.modalities)
        per_seed = [retention(inputs, leading_components(e, UrbanFusionConfig().dim), blocks) for e in embs]
        second = np.mean([retention(inputs, e, blocks) for e in embs])
        ret, ret_se = float(np.mean(per_seed)), float(np.std(per_seed, ddof=1) / np.sqrt(seeds))
        first = np.mean([retention(inputs, e) for e in embs])
        compact = np.mean([retention(inputs, leading_components(e), blocks) for e in embs])
        agree = np.mean([linear_cka(embs[i].to_numpy(np.float64), embs[j].to_numpy(np.float64)) for i, j in itertools.combinations(range(seeds), 2)])
        scores = pd.concat([evaluate({cand: embs}, city.labels, tasks, protocol=protocol),
                            evaluate({cand: embs}, city.labels, tasks, protocol="spatial_blocks", groups=blocks)])
        r2 = scores[scores.metric == "r2"]
        rows[cand] = {"retention": ret, "retention SE": ret_se, "seed agreement (CKA)": agree, "parameters per network": parameters_per_network(models[0]),
                      "retention, first version (Ridge(1))": first, "retention, second version (as it is)": second, "retention of the 16 leading components": compact,
                      **{f"mean R² ({p})": r2[r2.protocol == p]["mean"].mean() for p in (protocol, "spatial_blocks")},
                      **{f"largest seed std ({p})": r2[r2.protocol == p]["std"].max() for p in (protocol, "spatial_blocks")}}
        rows[cand]["seconds"] = time.time() - t
        log(f"{name}: {cand}: retention {ret:.3f}, agreement {agree:.3f} ({time.time() - t:.0f} s)")
    return pd.DataFrame(rows).T

def choose(retention:pd.Series, se:pd.Series, agreement:pd.Series, parameters:pd.Series)->str:
    "The rule of the module docstring."
    ok = [c for c in agreement[agreement >= MIN_AGREEMENT].index if c not in FIXED_IN_ADVANCE]
    pool = retention.loc[ok] if len(ok) else retention
    best = pool.idxmax()
    tied = pool[pool >= pool[best] - se[best]].index
    return str(sorted(tied, key=lambda c: (parameters[c], -retention[c]))[0])

def main(argv=None):
    from urbanlit.converters import find_shared_data
    from urbanlit.urbanfusion import UrbanFusionConfig
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--city", action="append", choices=list(CITIES), help="a shared city (repeatable; default both)")
    p.add_argument("--seeds", type=int, default=3, help="pre-training seeds per candidate (at least 2, for the seed agreement)")
    p.add_argument("--out-dir", default=str(Path(__file__).parent/"results"))
    p.add_argument("--reuse", action="store_true", help="read a city's scores from an earlier run's recipe_selection_<city>.csv when it exists")
    a = p.parse_args(argv)
    import torch
    torch.set_num_threads(1)  # as `run` trains and probes, so the machine note says so also when every city is --reuse'd
    if a.seeds < 2: p.error("--seeds must be at least 2")
    root = find_shared_data()
    if root is None: print("skipped: ../shared/data not found (set URBANLIT_SHARED_DATA)"); return
    names = a.city or list(CITIES)
    tables = {}
    for n in names:  # each city's scores are kept, so cities can run in separate processes and be merged with --reuse
        cache = Path(a.out_dir)/f"recipe_selection_{n}.csv"
        if a.reuse and cache.is_file() and "retention SE" in pd.read_csv(cache, index_col=0).columns: tables[n] = pd.read_csv(cache, index_col=0)
        else:
            tables[n] = run(n, Path(root), a.seeds)
            cache.parent.mkdir(parents=True, exist_ok=True); tables[n].to_csv(cache)
    ret = pd.concat([tb["retention"] for tb in tables.values()], axis=1).mean(axis=1)
    agree = pd.concat([tb["seed agreement (CKA)"] for tb in tables.values()], axis=1).mean(axis=1)
    se = np.sqrt((pd.concat([tb["retention SE"] for tb in tables.values()], axis=1) ** 2).sum(axis=1)) / len(tables)
    params = tables[names[0]]["parameters per network"]
    chosen = choose(ret, se, agree, params)
    seconds = {n: float(tb.pop("seconds").sum()) for n, tb in tables.items() if "seconds" in tb}
    table = pd.DataFrame({"retention (mean over cities)": ret.round(3), "retention SE": se.round(3), "seed agreement (mean over cities)": agree.round(3),
                          "parameters per network": params.astype(int)})
    for n, tb in tables.items():
        for col in tb.columns:
            if col not in ("parameters per network", "retention SE"): table[f"{n}: {col}"] = tb[col].astype(float).round(3)
    table.insert(0, "chosen", ["**yes**" if i == chosen else ("not eligible" if i in FIXED_IN_ADVANCE else "") for i in table.index])
    label_best = {n: {c: tb[c].astype(float).idxmax() for c in tb.columns if c.startswith("mean R²")} for n, tb in tables.items()}
    notes = [f"- {n}, best by {c} (labels, for comparison only): {b}" for n, d in label_best.items() for c, b in d.items()]
    cmd = " ".join(["python benchmarks/recipe_selection.py", *[f"--city {n}" for n in names], f"--seeds {a.seeds}"])
    text = "\n".join(["# The recipe a label-free criterion chooses", "",
        f"`{cmd}` (training and probes: " + ", ".join(f"{n} {v:.0f} s" for n, v in seconds.items()) + f"; {machine_note()}).", "",
        "Each row is `UrbanFusion()` with one change (the first row none), trained with "
        f"{a.seeds} seeds. *Retention*: `input_retention` under `spatial_blocks` of the embedding against each modality's "
        "inputs, averaged over modalities and seeds (SE: its standard error over seeds, combined over cities). *Seed "
        "agreement*: linear CKA between two seeds' embeddings, averaged over pairs. Rule (third version; see the script's "
        f"docstring): retention of each embedding's leading {UrbanFusionConfig().dim} principal components (the default's output dimension); among "
        f"rows with seed agreement ≥ {MIN_AGREEMENT}, output scaling left out (" + "; ".join(f"{k}: {v}" for k, v in FIXED_IN_ADVANCE.items()) +
        "), those within one SE of the best retention are tied, and the tie goes to the fewest parameters per network, then "
        "to the higher retention. The earlier versions' retention and the R² columns play no part in the choice.", "",
        f"Chosen: **{chosen}**.", "", *notes, "", markdown_table(table.rename_axis("candidate")), ""])
    out = Path(a.out_dir)/"recipe_selection.md"
    out.parent.mkdir(parents=True, exist_ok=True); out.write_text(text, encoding="utf-8")
    print(text)

if __name__ == "__main__": main()
