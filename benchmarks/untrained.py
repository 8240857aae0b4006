"""What training adds: urbanlit's default UrbanFusion against its own networks left at their initialisation, on a
shared real city.

Run: `python benchmarks/untrained.py --city chicago77|manhattan270|synthetic300 [--seeds 5] [--stable]` (from the
repository root, with `../shared/data` beside the checkout for the real cities). Writes
`benchmarks/results/untrained_<city>.md`. `synthetic300` is the 300-unit synthetic city of `08c_learning`, with its
small random image features and its probe (`random_kfold`, seeds 0–2) beside `spatial_blocks`; its raw baseline is, as
there, the PCA of all modalities' z-scored features at the embedding's width.

An untrained network is a fixed random nonlinear map of the inputs as the recipe prepares them (log counts, OD
destinations, each column z-scored); several of them, combined, are a random-feature embedding of those inputs that
needs no training. `08c_learning` asks the default to beat its own networks untrained by 0.1 on a synthetic city;
this script measures the same thing on real data, beside the best raw baseline of `recipe.py`. Rows, one model per
pre-training seed (the seed sets the initialisation, and for a trained model the batches):

- the default recipe, trained (five members sharing their batches, rotated onto the first and averaged);
- its five networks untrained (learning rate 1e-12 for one epoch, so the weights stay where they were initialised),
  combined the same way;
- the same five untrained networks combined by PCA (side by side, leading principal axes), which needs no reference
  member and is the stronger random-feature map;
- with `--stable`: `--preset stable` trained (as many members as the city needs: 80 on Chicago-77, 30 on
  Manhattan-270, each with its own batches, combined by PCA) and as many untrained networks combined the same way;
- with `--candidate NAME` (repeatable; alone, `ensemble`): one of the combinations `simulation_selection.py`'s rule
  chose, trained, and its networks untrained, combined the same way (and by PCA, for one combined by rotation): what
  `08c_learning`'s test of training would see if it became the default. `ensemble`: 20 members, each with its own
  batches, combined by PCA (the ensemble run's choice); `network`: dropout 0.1, λ 0.9, two blocks (the combined run's);
  `four`: those and 20 members (the fourth run's); `whole`: all six (the sixth run's).

Nothing here reads a label before the probes, and no setting is chosen from these numbers.
"""
from __future__ import annotations
import argparse, math, sys, time, warnings
from pathlib import Path
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import markdown_table, machine_note, r2_table
from recipe import CITIES, DEFAULT, load
from hafusion_cities import raw_baselines, fit_preset, stable_row, untrained_model

SYNTHETIC = "synthetic300"  # 08c_learning's city: 300 units, five indicators, small random image features
SYNTHETIC_TASKS = ["consumption", "employment", "income", "green_cover", "population"]

def image_settings(name:str)->dict:
    "The image encoder setting of a city's models: 08c's 32-pixel random features on the synthetic city, else the recipe's (the real cities have no images)."
    from urbanlit.inputs import ImageFeatureConfig
    return {"image": ImageFeatureConfig(image_size=32)} if name == SYNTHETIC else {}

def trained(name:str, city, preset:str, seed:int):
    "UrbanFusion with a preset of `urbanlit pretrain` (and the city's image setting), trained on `city`."
    return fit_preset(city, preset, seed, image_settings(name))

def untrained(name:str, city, seed:int, **settings):
    "The recipe's networks (`settings` changed, the city's image setting) at their initialisation, combined: `hafusion_cities.untrained_model`."
    return untrained_model(city, seed, **image_settings(name), **settings)

def setting(name:str, root:Path):
    "(city, literature protocol, tasks) of a shared city or of the synthetic one."
    if name != SYNTHETIC:
        _, protocol, tasks = CITIES[name]
        return load(name, root), protocol, tasks
    from urbanlit._testing.cities import toy_city
    from urbanlit.probes import get_protocol
    return toy_city(n_units=300, seed=0), get_protocol("random_kfold", repeats=3), SYNTHETIC_TASKS  # 08c's probe: seeds 0, 1, 2

def raw_rows(name:str, city, model)->dict[str, pd.DataFrame]:
    "The raw baselines: `recipe.py`'s for a shared city; on the synthetic city 08c's PCA of all z-scored features at the embedding's width."
    if name != SYNTHETIC: return raw_baselines(city)
    import numpy as np
    from sklearn.decomposition import PCA
    from urbanlit.inputs import modality_features
    feats = modality_features(city, model.net.modalities, image=model.config.image, progress=False)
    x = np.hstack([(f.values - f.values.mean(0)) / (f.values.std(0) + 1e-8) for f in feats.values()])
    return {"raw features of all modalities, PCA at the embedding's width": pd.DataFrame(PCA(model.config.dim, random_state=0).fit_transform(x), index=city.region_ids)}

NETWORK = dict(dropout=0.1, recon_weight=0.9, depth=2)
ENSEMBLE = dict(members=20, member_batches="own", combine="pca")
CANDIDATES = {  # name -> (settings changed from the default, row): the combinations simulation_selection.py's rule chose
    "ensemble": (ENSEMBLE, "UrbanFusion, the simulated cities' ensemble (20 members, own batches, PCA)"),
    "network": (NETWORK, "UrbanFusion, the simulated cities' network (dropout 0.1, λ 0.9, two blocks)"),
    "four": ({**NETWORK, "members": 20}, "UrbanFusion, the simulated cities' network and 20 members"),
    "whole": ({**NETWORK, **ENSEMBLE}, "UrbanFusion, the simulated cities' whole recipe (network, 20 members, own batches, PCA)")}

def run(name:str, root:Path, seeds:int=5, stable:bool=False, candidates:list[str]=(), log=print):
    from urbanlit.probes import evaluate, city_blocks, get_protocol
    from urbanlit.urbanfusion import auto_schedule, auto_members
    import torch
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", category=FutureWarning)
    city, protocol, tasks = setting(name, root)
    t = time.time()
    defaults = [trained(name, city, "recommended", s) for s in range(seeds)]
    learned = {DEFAULT: [m.transform(city) for m in defaults],
               "  its five networks untrained, combined the same way": [untrained(name, city, s).transform(city) for s in range(seeds)],
               "  its five networks untrained, combined by PCA": [untrained(name, city, s, combine="pca").transform(city) for s in range(seeds)]}
    under = {DEFAULT: list(learned)[1:]}  # trained row -> the rows of its untrained networks
    log(f"{name}: default rows in {time.time() - t:.0f} s")
    if stable:
        t = time.time()
        models = [trained(name, city, "stable", s) for s in range(seeds)]
        n = models[0].n_members
        schedule = auto_schedule(city.n_units)
        assert n == auto_members(schedule["epochs"] * math.ceil(city.n_units / schedule["batch_size"]))
        learned[stable_row(n)] = [m.transform(city) for m in models]
        own = f"  its {n} networks untrained, combined the same way"
        learned[own] = [untrained(name, city, s, members=n, member_batches="own", combine="pca").transform(city) for s in range(seeds)]
        under[stable_row(n)] = [own]
        log(f"{name}: stable rows in {time.time() - t:.0f} s")
    for cand in candidates:
        t = time.time()
        settings, row = CANDIDATES[cand]
        n, pca = settings.get("members", 5), settings.get("combine") == "pca"
        learned[row] = [fit_preset(city, "recommended", s, {**image_settings(name), **settings}).transform(city) for s in range(seeds)]
        ways = [("by PCA", settings)] if pca else [("the same way", settings), ("by PCA", {**settings, "combine": "pca"})]
        own = [f"  its {n} networks untrained, combined {how}" + ("" if cand == "ensemble" else f" ({cand})") for how, _ in ways]  # unique row names
        for r, (_, st) in zip(own, ways): learned[r] = [untrained(name, city, s, **st).transform(city) for s in range(seeds)]
        under[row] = own
        log(f"{name}: {cand} rows in {time.time() - t:.0f} s")
    raw = raw_rows(name, city, defaults[0])
    embeddings = {**learned, **raw}
    scores = pd.concat([evaluate(embeddings, city.labels, tasks, protocol=protocol),
                        evaluate(embeddings, city.labels, tasks, protocol="spatial_blocks", groups=city_blocks(city, verbose=False))])
    r2 = scores[scores.metric == "r2"]
    lit = scores.protocol.iloc[0]  # the literature protocol's name as `evaluate` gives it (the synthetic city's says its 3 repeats)
    protocols = (lit, "spatial_blocks")
    table, means, _ = r2_table(r2, protocols, tasks)
    table = table.loc[list(embeddings)].rename_axis("embedding")
    raw = list(raw)
    best = {p: (means.loc[raw, p].idxmax(), means.loc[raw, p].max()) for p in protocols}
    lines = []
    for row, below in under.items():
        for p in protocols:
            gaps = ", ".join(f"{means.loc[u, p]:.3f} untrained ({u.strip()})" for u in below)
            lines.append(f"- {row}, {p}: {means.loc[row, p]:.3f} trained against {gaps}; the best raw baseline ({best[p][0]}) {best[p][1]:.3f}")
    return table, lines, dict(protocol=lit, described=get_protocol(protocol).describe(), n=city.n_units)

def main(argv=None):
    from urbanlit.converters import find_shared_data
    from urbanlit.probes import get_protocol
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--city", required=True, choices=[*CITIES, SYNTHETIC], help="a shared city, or 08c's synthetic one")
    p.add_argument("--seeds", type=int, default=5, help="pre-training seeds (initialisations) per row")
    p.add_argument("--stable", action="store_true", help="also `--preset stable` and as many untrained networks (80 on Chicago-77, 30 on Manhattan-270: slower)")
    p.add_argument("--candidate", action="append", nargs="?", const="ensemble", choices=list(CANDIDATES),
                   help="also this combination of the simulated cities' rule (alone: ensemble) and its networks untrained; repeatable")
    p.add_argument("--out-dir", default=str(Path(__file__).parent/"results"))
    a = p.parse_args(argv)
    root = find_shared_data()
    if root is None and a.city != SYNTHETIC: print("skipped: ../shared/data not found (set URBANLIT_SHARED_DATA)"); return
    t = time.time()
    cands = list(dict.fromkeys(a.candidate or []))
    table, lines, info = run(a.city, Path(root) if root else None, a.seeds, a.stable, cands)
    flags = "".join(" --candidate" if c == "ensemble" else f" --candidate {c}" for c in cands)
    probe = "08c_learning's probe" if a.city == SYNTHETIC else "this city's literature protocol"
    text = "\n".join([f"# {a.city}: what training adds to UrbanFusion's networks", "",
        f"`python benchmarks/untrained.py --city {a.city} --seeds {a.seeds}{' --stable' if a.stable else ''}{flags}` ({info['n']} regions, "
        f"{time.time() - t:.0f} s on {machine_note()}).", "",
        f"R² under {probe} (`{info['protocol']}`: {info['described']}) and under "
        f"`spatial_blocks` ({get_protocol('spatial_blocks').describe()}; " + ("blocks: spatial clusters of the units' coordinates). " if a.city == SYNTHETIC else "blocks: communities of the trip graph, block seed 0, as in `recipe_*.md`). ") + "Rows indented under a trained model are its networks at their initialisation (learning rate 1e-12 for one "
        "epoch), combined as the row says: a random-feature embedding of the same prepared inputs. Mean ± std over initialisations; "
        "raw features are deterministic.", "", "Mean R² over the tasks:", "", *lines, "", markdown_table(table), ""])
    out = Path(a.out_dir)/f"untrained_{a.city}.md"
    out.parent.mkdir(parents=True, exist_ok=True); out.write_text(text, encoding="utf-8")
    print(text)

if __name__ == "__main__": main()
