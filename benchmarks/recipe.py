"""urbanlit's default UrbanFusion recipe on the two shared real cities, against the raw inputs it is learned from, with
an ablation of the recipe's design choices.

Run: `python benchmarks/recipe.py [--city chicago77|manhattan270 ...] [--seeds 5] [--ablation-seeds 5]` (from the
repository root, with `../shared/data` beside the checkout or `$URBANLIT_SHARED_DATA` set). Writes
`benchmarks/results/recipe_<city>.md`.

Every UrbanFusion row is `UrbanFusion()` with its defaults (what `urbanlit pretrain --city DIR --out OUT` trains), the
seed being the only setting, except for the one design choice an ablation row names, and the `--preset stable` row:
the recipe with `members="auto"` (a budget of 24,000 member-steps: 80 members on Chicago-77, 30 on Manhattan-270), each
member with its own batches, combined by PCA, as `urbanlit pretrain --preset stable` builds it. No label is read before
the probes.
Each city is scored under its literature protocol (Chicago: `hafusion_chicago`; Manhattan: `literature_m270`, plus the
land-use NMI of KMeans(29)) and under urbanlit's `spatial_blocks` (blocks: communities of the trip graph, as neither
folder has geometry). Learned embeddings: mean ± std over pre-training seeds.
"""
from __future__ import annotations
import argparse, sys, time, warnings
from pathlib import Path
import numpy as np, pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import markdown_table, machine_note, mean_std, r2_table
import cache
from hafusion_cities import raw_baselines, pretrain_musecl, fit_preset, stable_row

CITIES = {"chicago77": ("hafusion", "hafusion_chicago", ["checkin", "crime", "service_call"]),
          "manhattan270": ("manhattan270", "literature_m270", ["checkins", "crime"])}
DEFAULT = "UrbanFusion (default recipe)"

def load(name:str, root:Path):
    from urbanlit.converters import hafusion_to_city, manhattan270_to_city
    kind = CITIES[name][0]
    return hafusion_to_city(root/name) if kind == "hafusion" else manhattan270_to_city(root/name)

def without_destinations(city):
    "The city with its OD table replaced by the log in / out totals alone (urbanlit's mobility input before this recipe)."
    from urbanlit.data import CityData
    totals = np.log1p(city.flows()[["outflow", "inflow"]].to_numpy(np.float32))
    return CityData(city.regions, pois=city.pois, features={**city.features, "mobility_totals": totals}, labels=city.labels, name=city.name)

def ablations(city)->dict:
    "Name -> (city, config overrides): one design choice of the recipe changed per row."
    from urbanlit.urbanfusion import UrbanFusionConfig
    released = UrbanFusionConfig.paper().to_dict()
    released.pop("train")
    return {"one member (no ensemble)": (city, dict(members=1)),
            "h as it is (not on the unit sphere)": (city, dict(output="raw")),
            "one member, h as it is": (city, dict(members=1, output="raw")),
            "mobility: log totals only (no destinations)": (without_destinations(city), {}),
            "count vectors as they are (no log1p)": (city, dict(count_transform="none")),
            "λ = 0.25 (the paper's)": (city, dict(recon_weight=0.25)),
            "the released network (768-d, λ 0.25, one member, h as it is), this schedule": (city, {**released, "schedule": "auto"})}

def fit(city, seed:int, **overrides):
    from urbanlit.urbanfusion import UrbanFusionConfig
    from urbanlit.train import TrainConfig
    return cache.fit_urbanfusion(UrbanFusionConfig.with_overrides(UrbanFusionConfig(train=TrainConfig(seed=seed, progress=False, device="cpu")), **overrides), city)

def run(name:str, root:Path, seeds:int=5, ablation_seeds:int=5, log=print):
    from urbanlit.probes import evaluate, city_blocks, literature_protocol
    import torch
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", category=FutureWarning)
    _, protocol, tasks = CITIES[name]
    city = load(name, root)
    t = time.time()
    models = [fit(city, s) for s in range(seeds)]
    log(f"{name}: {seeds} default models in {time.time() - t:.0f} s")
    learned = {DEFAULT: [m.transform(city) for m in models]}
    for mod in models[0].net.modalities:  # the trained default model, embedding from one modality
        learned[f"  default model, {mod} only"] = [m.transform(city, [mod]) for m in models]
    for row, (c, over) in ablations(city).items():
        t = time.time()
        learned[f"  ablation: {row}"] = [fit(c, s, **over).transform(c) for s in range(ablation_seeds)]
        log(f"{name}: {row} in {time.time() - t:.0f} s")
    t = time.time()
    stable = [fit_preset(city, "stable", s) for s in range(seeds)]
    stable_name = stable_row(stable[0].n_members)
    learned[stable_name] = [m.transform(city) for m in stable]
    log(f"{name}: {seeds} models of the stable preset in {time.time() - t:.0f} s")
    learned["MuseCL (no images)"] = [pretrain_musecl(city, s) for s in range(seeds)]
    embeddings = {**learned, **raw_baselines(city)}
    blocks = city_blocks(city, verbose=False)
    scores = pd.concat([evaluate(embeddings, city.labels, tasks, protocol=protocol),
                        evaluate(embeddings, city.labels, tasks, protocol="spatial_blocks", groups=blocks)])
    r2 = scores[scores.metric == "r2"]
    table, means, worst = r2_table(r2, (protocol, "spatial_blocks"), tasks)
    if name == "manhattan270":
        nmi = literature_protocol(embeddings, city.labels)
        nmi = nmi[nmi.metric == "nmi"].set_index("embedding")
        table["land-use NMI"] = [mean_std(nmi.loc[e]) for e in table.index]
    table = table.loc[list(embeddings)].rename_axis("embedding")
    raw_names = list(raw_baselines(city))
    summary = {(row, p): dict(model=means.loc[row, p], best_raw=means.loc[raw_names, p].max(), best_raw_name=means.loc[raw_names, p].idxmax(),
                              worst_std=worst.loc[row, p]) for row in (DEFAULT, stable_name) for p in (protocol, "spatial_blocks")}
    return table, summary, dict(protocol=protocol, n=city.n_units)

def main(argv=None):
    from urbanlit.converters import find_shared_data
    from urbanlit.probes import get_protocol
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--city", action="append", choices=list(CITIES), help="a shared city (repeatable; default both)")
    p.add_argument("--seeds", type=int, default=5, help="pre-training seeds of the default model and MuseCL")
    p.add_argument("--ablation-seeds", type=int, default=5, help="pre-training seeds of each ablation row")
    p.add_argument("--out-dir", default=str(Path(__file__).parent/"results"))
    a = p.parse_args(argv)
    root = find_shared_data()
    if root is None: print("skipped: ../shared/data not found (set URBANLIT_SHARED_DATA)"); return
    for name in a.city or list(CITIES):
        t = time.time()
        table, summary, info = run(name, Path(root), a.seeds, a.ablation_seeds)
        lines = [f"- {row}, {p}: {s['model']:.3f} against the best raw baseline ({s['best_raw_name']}) {s['best_raw']:.3f}: "
                 f"{s['model'] - s['best_raw']:+.3f}; largest per-task seed std {s['worst_std']:.3f}" for (row, p), s in summary.items()]
        text = "\n".join([f"# {name}: the default UrbanFusion recipe against its raw inputs", "",
            f"`python benchmarks/recipe.py --city {name} --seeds {a.seeds} --ablation-seeds {a.ablation_seeds}` ({info['n']} regions, "
            f"{time.time() - t:.0f} s on {machine_note()}).", "",
            f"R² under this city's literature protocol (`{info['protocol']}`: {get_protocol(info['protocol']).describe()}) and under "
            f"`spatial_blocks` ({get_protocol('spatial_blocks').describe()}; blocks: communities of the trip graph). Rows indented "
            "under the default are its ablations: the trained default model read from one modality, or one design choice changed "
            "and retrained; the stable preset's row is the recipe with as many members as the city needs. Mean ± std over pre-training seeds; raw features are deterministic (their ± under spatial_blocks is over "
            "the protocol's repeats).", "", "Mean R² over the tasks:", "", *lines, "", markdown_table(table), ""])
        out = Path(a.out_dir)/f"recipe_{name}.md"
        out.parent.mkdir(parents=True, exist_ok=True); out.write_text(text, encoding="utf-8")
        print(text)

if __name__ == "__main__": main()
