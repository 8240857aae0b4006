"""HAFusion-format cities: urbanlit's default UrbanFusion (and MuseCL without images) against the raw inputs they are
learned from, under the city's HAFusion protocol and under urbanlit's `spatial_blocks` (on one block partition, and with
each repeat on its own partition), with HAFusion's published numbers beside them.

Run: `python benchmarks/hafusion_cities.py --city-dir ../shared/data/chicago77 [--city-dir OTHER ...] [--seeds 5] [--stable]`
(from the repository root). Each folder holds HAFusion's arrays (`poi_dist.npy`, `mob-adj.npy`, `landUse_dist.npy`,
label `*_counts.npy`); it is converted with `urbanlit.converters.hafusion_to_city`. The HAFusion protocol of a folder is chosen
from its name (`urbanlit.converters.hafusion_city`: data_NY, chicago77, new-york-180, ...) or given with `--protocol`; a folder whose name is none of these
(another city) is scored with `GENERIC` (HAFusion's script in its 10-fold shuffled form) and no published numbers, which
belong to their own city only. Writes `benchmarks/results/hafusion_<folder>.md`.

Nothing here reads a label before the probes: UrbanFusion runs with `urbanlit pretrain`'s defaults, for every city the
same (no per-city setting); `--stable` adds a row for `urbanlit pretrain --preset stable` (as many ensemble members as
the city needs for repeatable scores: 80 on a 77-region city, up to 16 times the training time). Under the default is a
row of its five networks left at their initialisation (`untrained_model`): a random-feature embedding of the same
inputs, so the report shows what training adds on any city (`untrained.py` measures more of it on the shared ones).
"""
from __future__ import annotations
import argparse, sys, time, warnings
from pathlib import Path
import numpy as np, pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import markdown_table, machine_note, r2_table, blank_missing
from urbanlit.converters import hafusion_city
import cache

PUBLISHED = {  # HAFusion's table (check-in / crime / service calls R²); its script keeps the epoch that scores best on these labels
    "hafusion_ny": {"checkin": "0.844", "crime": "0.734", "service_call": "0.493"},
    "hafusion_chicago": {"checkin": "0.870 ± 0.010", "crime": "0.631 ± 0.036", "service_call": "0.613 ± 0.067"},
    "hafusion_sf": {"checkin": "0.813", "crime": "0.682", "service_call": "0.612"},
}

GENERIC = "hafusion_sf"  # a folder of another city: HAFusion's task script in its generic form (Ridge(1), KFold(10, shuffled, seed 2024))

def protocol_for(folder:Path, given:str|None=None)->str:
    "The protocol a folder is scored with: `given`, else the one its name identifies, else `GENERIC`."
    if given and given not in PUBLISHED: raise SystemExit(f"--protocol {given}: use one of {sorted(PUBLISHED)}")
    return given or hafusion_city(folder) or GENERIC

def published_row(city:str|None, tasks:list, protocol:str)->dict|None:
    "HAFusion's published R² for `city` (the protocol `hafusion_city` gives a folder), as columns of this protocol; None for another city, or one scored otherwise."
    if city is None or city != protocol: return None
    return {f"{t} ({protocol})": PUBLISHED[city].get(t, "") for t in tasks}

def protocol_notes(info:dict, given:str|None)->tuple[str, str]:
    "The report's sentence naming the protocol, and its sentence on the published numbers (shown or not, and why)."
    if info["published"]:
        return (f"R² under HAFusion's protocol for this city (`{info['protocol']}`)",
                "HAFusion's published numbers come from its paper; its training script keeps, every 30 epochs, the embedding that scores best "
                "on these same labels, so they are optimistic and not comparable one to one.")
    if info["known"]:
        return f"R² under HAFusion's `{info['protocol']}` protocol", "No published HAFusion numbers are shown: the folder is scored with another protocol than its city's."
    default = f" Without `--protocol` such a folder is scored with `{GENERIC}`, HAFusion's script in its 10-fold shuffled form." if given is None else ""
    return (f"R² under HAFusion's `{info['protocol']}` protocol (the folder is not one of HAFusion's cities by its name)",
            "No published HAFusion numbers are shown: the folder's name is not one of HAFusion's cities (ny, chicago, sf), and those numbers "
            "belong to their own city." + default)

def raw_baselines(city)->dict[str, pd.DataFrame]:
    "The inputs without learning: POI counts, log POI counts ⊕ OD out/in distributions, land-use counts, and all of them concatenated."
    ids = city.region_ids
    poi = city.poi_counts().to_numpy(np.float64)
    od = city.flow_distributions()
    out = {"POI counts (raw)": poi, "log POI counts ⊕ OD distributions (raw)": np.hstack([np.log1p(poi), od])}
    if "land_use" in city.features:
        land = city.feature("land_use").astype(np.float64)
        out["land-use counts (raw)"] = land
        out["log POI ⊕ OD ⊕ log land use (raw)"] = np.hstack([np.log1p(poi), od, np.log1p(land)])
    return {k: pd.DataFrame(v, index=ids) for k, v in out.items()}

def fit_preset(city, preset:str, seed:int, overrides:dict|None=None):
    "UrbanFusion with a preset of `urbanlit pretrain` as the command builds it (no option but the seed, and `overrides`), trained on `city`."
    from urbanlit.cli import model_config
    return cache.fit_urbanfusion(model_config("urbanfusion", preset, overrides=overrides, seed=seed, device="cpu", progress=False), city)

def pretrain_musecl(city, seed:int)->pd.DataFrame:
    "MuseCL without images: MLP branches on OD distributions (mobility triplets) and POI counts (POI triplets), POI word2vec, attentive fusion."
    from urbanlit.cli import model_config
    from urbanlit.musecl import MuseCL
    from urbanlit.data import CityData
    extra = CityData(city.regions, pois=city.pois, mobility=city.mobility, features={**city.features, "od_distributions": city.flow_distributions().astype(np.float32)},
                     labels=city.labels, name=city.name)
    cfg = model_config("musecl", overrides={"street_view": "od_distributions", "remote_sensing": "poi"}, seed=seed, device="cpu", progress=False)
    return cache.embedding("musecl", cfg.to_dict(), extra, lambda: MuseCL(cfg).fit(extra).transform(extra))

def untrained_model(city, seed:int, **settings):
    "UrbanFusion with the recipe's networks (`settings` changed) trained one epoch at a learning rate of 1e-12: its networks at their initialisation, combined."
    from urbanlit.urbanfusion import UrbanFusion, auto_schedule
    from urbanlit.train import TrainConfig
    batch = auto_schedule(city.n_units)["batch_size"]
    return UrbanFusion(schedule="fixed", **settings, train=TrainConfig(epochs=1, batch_size=batch, lr=1e-12, seed=seed, progress=False, device="cpu")).fit(city)

UNTRAINED = "  its five networks untrained (random features of the same inputs)"  # the row under the default: what training adds

STABLE = "UrbanFusion, `--preset stable`"

def stable_row(members:int)->str:
    "The stable preset's row name in the result tables, with the members it trained on this city."
    return f"{STABLE} ({members} members)"

PARTITIONS = 5  # the block partitions of the averaged spatial_blocks columns: one per repeat of the protocol
AVERAGED = f"spatial_blocks({PARTITIONS} block partitions)"  # the protocol name `evaluate` gives them

def run(folder:Path, seeds:int=5, protocol:str|None=None, stable:bool=False, log=print):
    from urbanlit.converters import hafusion_to_city
    from urbanlit.probes import evaluate, city_partitions, get_protocol
    import torch
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", category=FutureWarning)
    name, known = protocol_for(folder, protocol), hafusion_city(folder)
    if protocol is None and known is None:
        log(f"{folder.name}: not one of HAFusion's cities by its name (ny, chicago, sf): scored with {GENERIC} (HAFusion's script, 10 shuffled folds), no published numbers")
    city = hafusion_to_city(folder)
    tasks = list(city.labels.columns)
    learned = {"UrbanFusion (default recipe)": [], UNTRAINED: [], **({STABLE: []} if stable else {}), "MuseCL (no images)": []}
    for seed in range(seeds):
        t = time.time()
        learned["UrbanFusion (default recipe)"].append(fit_preset(city, "recommended", seed).transform(city))
        learned[UNTRAINED].append(untrained_model(city, seed).transform(city))
        if stable:
            model = fit_preset(city, "stable", seed)
            learned[STABLE].append(model.transform(city))
            members = model.n_members  # the same for every seed: it follows from the city's size
        learned["MuseCL (no images)"].append(pretrain_musecl(city, seed))
        log(f"{folder.name}, seed {seed}: pre-trained in {time.time() - t:.0f} s")
    if stable: learned = {(stable_row(members) if k == STABLE else k): v for k, v in learned.items()}
    embeddings = {**learned, **raw_baselines(city)}
    partitions = city_partitions(city, PARTITIONS, verbose=False)  # its first column is `city_blocks(city)`, the one-partition protocol's blocks
    scores = pd.concat([evaluate(embeddings, city.labels, tasks, protocol=name),
                        evaluate(embeddings, city.labels, tasks, protocol="spatial_blocks", groups=partitions.iloc[:, 0]),
                        evaluate(embeddings, city.labels, tasks, protocol="spatial_blocks", groups=partitions)])
    r2 = scores[scores.metric == "r2"]
    protocols = (name, "spatial_blocks", AVERAGED)
    table, _, _ = r2_table(r2, protocols, tasks, spread=False)
    table = table.loc[list(embeddings)]
    published = published_row(known, tasks, name)
    if published is not None: table = pd.concat([table, pd.DataFrame([published], index=["HAFusion, published (selected on test labels)"])])
    table = blank_missing(table).rename_axis("embedding")
    return table, scores, dict(protocol=name, blocks=get_protocol("spatial_blocks").describe(), n=city.n_units, published=published is not None,
                               known=known is not None)

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--city-dir", action="append", required=True, help="a HAFusion-format folder (repeatable)")
    p.add_argument("--seeds", type=int, default=5, help="pre-training seeds")
    p.add_argument("--protocol", choices=sorted(PUBLISHED), help=f"the HAFusion protocol of every folder (default: from each folder's name; another city's: {GENERIC})")
    p.add_argument("--stable", action="store_true", help="also UrbanFusion's stable preset (as many members as the city needs; up to 16 times the training time)")
    p.add_argument("--out-dir", default=str(Path(__file__).parent/"results"))
    a = p.parse_args(argv)
    for folder in map(Path, a.city_dir):
        if not folder.is_dir(): print(f"skipped: {folder} is not a directory"); continue
        t = time.time()
        table, scores, info = run(folder, a.seeds, a.protocol, a.stable)
        protocol_sentence, published_sentence = protocol_notes(info, a.protocol)
        text = "\n".join([f"# {folder.name}: urbanlit's default embeddings against their raw inputs", "",
            f"`python benchmarks/hafusion_cities.py --city-dir {folder} --seeds {a.seeds}{f' --protocol {a.protocol}' if a.protocol else ''}{' --stable' if a.stable else ''}` ({info['n']} regions, {time.time() - t:.0f} s on {machine_note()}).", "",
            protocol_sentence + f" and under urbanlit's `spatial_blocks` ({info['blocks']}; blocks: "
            "communities of the trip graph, as the folder has no geometry), on one block partition (block seed 0) and with each of its "
            f"{PARTITIONS} repeats on its own partition (`{AVERAGED}`, block seeds 0 … {PARTITIONS - 1}, as `urbanlit probe --block-partitions {PARTITIONS}` scores; "
            "how much one partition decides: `block_sensitivity.md`). Learned embeddings: mean ± std over pre-training seeds. "
            "UrbanFusion runs with `urbanlit pretrain`'s defaults" + (" and with `--preset stable`" if a.stable else "") + "; MuseCL without images with its small preset. "
            "The row indented under the default is its five networks left at their initialisation (learning rate 1e-12 for one epoch): "
            "a random-feature embedding of the same inputs, so the gap is what training adds.", "",
            markdown_table(table), "",
            published_sentence, ""])
        out = Path(a.out_dir)/f"hafusion_{folder.name}.md"
        out.parent.mkdir(parents=True, exist_ok=True); out.write_text(text, encoding="utf-8")
        print(text)

if __name__ == "__main__": main()
