"""Pretrained against random image encoders on the shared real photos: linear probes of frozen features, UrbanFusion with
pretrained against random image tokens, and the extraction pipeline's throughput against a pure forward pass.

Run: `python benchmarks/pretrained_images.py [--seeds 5] [--uf-seeds 3] [--repeats 3]` (from the repository root, with
`../shared/data` beside the checkout or `$URBANLIT_SHARED_DATA` set). Writes `benchmarks/results/pretrained_images.md`.

- Street view (`streetview/`, 200 photos of Singapore and London, 10 urban functions, 20 a class): logistic regression on
  standardised frozen features, stratified 5-fold, 5 split seeds (random encoders: a new initialisation per seed).
- Satellite (`satellite/`, 24 zoom-16 tiles of four Chinese cities with population and carbon): ridge (α by inner
  leave-one-out over 13 values) on standardised features, outer leave-one-out, log1p targets; and UrbanFusion's default
  recipe on a 24-unit city of those tiles (coordinates + the satellite image), pretrained against random image tokens.
- Throughput: `extract_image_features` (decode, resize, crop, normalise, forward, cache) against a forward pass alone on
  the same photos already decoded and prepared as one tensor, batch 64, same process, median of repeats.
"""
from __future__ import annotations
import argparse, statistics, sys, tempfile, time, warnings, shutil
from pathlib import Path
import numpy as np, pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import markdown_table, machine_note

PRETRAINED = "efficientnet_lite0.imagenet"

def encoder(kind:str, seed:int=0):
    "kind: 'pretrained' (EfficientNet-Lite0, ImageNet), 'random' (the same network, random init) or 'random resnet18'."
    import torch
    from urbanlit.encoders import ImageEncoder
    torch.manual_seed(seed)
    if kind == "pretrained": return ImageEncoder(None, pretrained=PRETRAINED).eval()
    enc = ImageEncoder("efficientnet_lite0" if kind == "random" else "resnet18").eval()
    if kind == "random":  # the pretrained weights' preprocessing, so only the weights differ
        ref = ImageEncoder(None, pretrained=PRETRAINED)
        enc.config.mean, enc.config.std, enc.config.crop_pct, enc.config.interpolation = ref.config.mean, ref.config.std, ref.config.crop_pct, ref.config.interpolation
    return enc

def features(enc, paths:list[Path], batch:int=64)->np.ndarray:
    import torch
    from PIL import Image
    out = []
    with torch.inference_mode():
        for i in range(0, len(paths), batch):
            x = torch.stack([enc.transform(Image.open(p)) for p in paths[i:i + batch]])
            out.append(enc(x).numpy())
    return np.concatenate(out).astype(np.float64)

def streetview_probe(root:Path, seeds:int)->pd.DataFrame:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    labels = pd.read_csv(root/"streetview"/"labels.csv")
    paths, y = [root/"streetview"/p for p in labels.path], labels.function_id.to_numpy()
    rows = {}
    for kind in ("pretrained", "random", "random resnet18"):
        scores = []
        x = features(encoder(kind), paths) if kind == "pretrained" else None
        for s in range(seeds):
            xs = x if x is not None else features(encoder(kind, seed=s), paths)
            clf = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=2000))
            scores.append(cross_val_score(clf, xs, y, cv=StratifiedKFold(5, shuffle=True, random_state=s)).mean())
        rows[kind] = scores
    rows["chance (most frequent class)"] = [float(np.bincount(y).max() / len(y))] * seeds
    return pd.DataFrame({"accuracy": {k: f"{np.mean(v):.3f} ± {np.std(v):.3f}" for k, v in rows.items()}}), rows

def loo_ridge(x:np.ndarray, y:np.ndarray)->float:
    "Outer leave-one-out R² of RidgeCV (inner leave-one-out α over 13 values) on standardised x."
    from sklearn.linear_model import RidgeCV
    from sklearn.model_selection import LeaveOneOut, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    model = make_pipeline(StandardScaler(), RidgeCV(alphas=np.logspace(-3, 3, 13)))
    pred = cross_val_predict(model, x, y, cv=LeaveOneOut())
    return float(1 - ((y - pred) ** 2).sum() / ((y - y.mean()) ** 2).sum())

def satellite_city(root:Path):
    import geopandas as gpd
    from urbanlit.data import CityData
    labels = pd.read_csv(root/"satellite"/"labels.csv")
    ids = [f"tile{i:02d}" for i in range(len(labels))]
    regions = gpd.GeoDataFrame(index=pd.Index(ids, name="region_id"), geometry=gpd.points_from_xy(labels.lon, labels.lat), crs="EPSG:4326")
    images = pd.DataFrame({"region_id": ids, "path": [str(root/"satellite"/p) for p in labels.path]})
    targets = pd.DataFrame({"log population": np.log1p(labels.population.to_numpy(float)), "log carbon": np.log1p(labels.carbon_t.to_numpy(float))},
                           index=regions.index)
    return CityData(regions, images={"satellite": images}, labels=targets, name="satellite24"), labels

def musecl_finetune(city, seeds:int, log=print)->dict:
    """MuseCL's stage-1 triplet training of its remote-sensing branch (EfficientNet-Lite0 + 128-d head, the released
    optimiser: Adam 5e-4, Euclidean margin 5, uniform negatives, 10 epochs) on the 24 tiles, from the ImageNet weights and
    from a random initialisation. The tiles have no POIs, so the pairs come from geography instead of MuseCL's POI
    similarity: each tile's 3 nearest tiles are its positives (`distance_triplets`). Returns name -> embeddings per seed."""
    import torch
    from urbanlit.losses import TripletLoss
    from urbanlit.musecl import BranchEncoder, MuseCLConfig, TripletBatches, UnitInputs, triplet_stage_loss
    from urbanlit.pairs import distance_triplets
    from urbanlit.encoders import image_weights
    from urbanlit.train import train
    import dataclasses
    config, ref = MuseCLConfig.paper(), image_weights(PRETRAINED)
    out = {}
    for kind, weights in (("pretrained", PRETRAINED), ("random", None)):
        t, runs = time.time(), []
        for s in range(seeds):
            torch.manual_seed(s)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                branch = BranchEncoder("image", config.embed_dim, "efficientnet_lite0", weights)
            for key in ("mean", "std", "crop_pct", "interpolation"): setattr(branch.image.config, key, getattr(ref, key))  # only the weights differ
            index = distance_triplets(city.coords(), k_pos=3, seed=s)
            data = TripletBatches(index, UnitInputs(city, "satellite", None, transform=branch.image.transform), seed=s)
            loop = dataclasses.replace(config.triplet, seed=s, progress=False, device="cpu")
            train(branch, data, triplet_stage_loss(TripletLoss(config.distance, config.margin)), loop)
            branch.eval()
            with torch.inference_mode():
                runs.append(branch(data.inputs(np.arange(city.n_units))["x"]).numpy().astype(np.float64))
        out[f"MuseCL triplet fine-tuning (proximity pairs), from {kind} weights"] = runs
        log(f"satellite: MuseCL fine-tuning from {kind} weights, {seeds} seeds in {time.time() - t:.0f} s")
    return out

def satellite_probe(root:Path, seeds:int, uf_seeds:int, log=print)->pd.DataFrame:
    import torch
    from urbanlit.urbanfusion import UrbanFusion
    from urbanlit.inputs import ImageFeatureConfig
    from urbanlit.location import location_features
    from urbanlit.train import TrainConfig
    city, labels = satellite_city(root)
    paths = list(city.images["satellite"].path.map(Path))
    tasks = list(city.labels.columns)
    embs = {"frozen features, pretrained": [features(encoder("pretrained"), paths)],
            "frozen features, random": [features(encoder("random", s), paths) for s in range(seeds)],
            "coordinates (raw lon, lat)": [city.coords()],
            "coordinates through GeoCLIP's pretrained location encoder (frozen, 512 features)": [location_features(city.coords())]}
    for kind, weights, location in (("pretrained", PRETRAINED, "rff"), ("random", None, "rff"), ("pretrained", PRETRAINED, "geoclip")):
        t = time.time()
        image = ImageFeatureConfig(weights=weights, backbone=None if weights else "efficientnet_lite0")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            runs = [UrbanFusion(image=image, location_encoder=location, train=TrainConfig(seed=s, progress=False, device="cpu")).fit(city)
                    for s in range(uf_seeds)]
            name = f"UrbanFusion (default recipe), {kind} image tokens" + (", GeoCLIP coordinates" if location == "geoclip" else "")
            embs[name] = [m.transform(city).to_numpy(np.float64) for m in runs]
        log(f"satellite: {name}, {uf_seeds} seeds in {time.time() - t:.0f} s")
    embs.update(musecl_finetune(city, uf_seeds, log))
    rows = {}
    for name, runs in embs.items():
        scores = np.array([[loo_ridge(x, city.labels[t].to_numpy()) for t in tasks] for x in runs])
        rows[name] = {f"{t} R²": (f"{scores[:, j].mean():.3f} ± {scores[:, j].std():.3f}" if len(runs) > 1 else f"{scores[0, j]:.3f}") for j, t in enumerate(tasks)}
    return pd.DataFrame(rows).T

def throughput(root:Path, repeats:int)->pd.DataFrame:
    import torch
    from PIL import Image
    from urbanlit.extraction import extract_image_features
    labels = pd.read_csv(root/"streetview"/"labels.csv")
    enc = encoder("pretrained").to(memory_format=torch.channels_last)  # the layout extract_image_features runs in (1.8x faster on CPU than NCHW)
    images = pd.DataFrame({"region_id": [f"p{i:03d}" for i in range(len(labels))], "path": [str(root/"streetview"/p) for p in labels.path]})
    units = list(images.region_id)
    x = torch.stack([enc.transform(Image.open(p)) for p in images.path]).contiguous(memory_format=torch.channels_last)  # prepared once, outside the clock
    def forward():
        with torch.inference_mode():
            for i in range(0, len(x), 64): enc(x[i:i + 64])
    tmp = Path(tempfile.mkdtemp())
    def pipeline(workers):
        shutil.rmtree(tmp/"features", ignore_errors=True)
        extract_image_features(enc, images, units, tmp, "sv", batch_size=64, num_workers=workers, device="cpu", progress=False)
    times = {"forward pass alone (prepared tensors)": [], "extract_image_features, 0 workers": [], "extract_image_features, 2 workers": []}
    try:
        for _ in range(repeats):  # interleaved, so a change of the machine's load hits every method alike
            for name, f in zip(times, (forward, lambda: pipeline(0), lambda: pipeline(2))):
                t = time.perf_counter(); f(); times[name].append(time.perf_counter() - t)
    finally: shutil.rmtree(tmp, ignore_errors=True)
    base = statistics.median(times["forward pass alone (prepared tensors)"])
    return pd.DataFrame({"images/s": {k: round(len(x) / statistics.median(v)) for k, v in times.items()},
                         "throughput ÷ forward alone": {k: round(base / statistics.median(v), 2) for k, v in times.items()}})

def main(argv=None):
    from urbanlit.converters import find_shared_data
    import torch
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seeds", type=int, default=5, help="probe split seeds (and random initialisations)")
    p.add_argument("--uf-seeds", type=int, default=3, help="UrbanFusion pre-training seeds on the satellite city")
    p.add_argument("--repeats", type=int, default=3, help="throughput repeats (median)")
    p.add_argument("--threads", type=int, default=2, help="torch threads")
    p.add_argument("--out-dir", default=str(Path(__file__).parent/"results"))
    a = p.parse_args(argv)
    root = find_shared_data()
    if root is None: print("skipped: ../shared/data not found (set URBANLIT_SHARED_DATA)"); return
    root = Path(root)
    torch.set_num_threads(a.threads)
    t0 = time.time()
    thr = throughput(root, a.repeats); print(thr)  # first, in a fresh process, as extraction runs before training (after training in the same process the forward alone ran 2x faster here)
    sv, _ = streetview_probe(root, a.seeds); print(sv)
    sat = satellite_probe(root, a.seeds, a.uf_seeds); print(sat)
    cmd = f"python benchmarks/pretrained_images.py --seeds {a.seeds} --uf-seeds {a.uf_seeds} --repeats {a.repeats} --threads {a.threads}"
    text = "\n".join(["# Pretrained against random image encoders on real photos", "",
        f"`{cmd}` ({time.time() - t0:.0f} s on {machine_note()}). Pretrained: `{PRETRAINED}` (EfficientNet-Lite0, ImageNet-1k, "
        "1,280 features, 224 px); random: the same network randomly initialised, with the same preprocessing; random resnet18: "
        "urbanlit's former default image encoder.", "",
        "## Street view: urban function from one photo (200 photos, 10 classes)", "",
        f"Logistic regression (C = 0.1) on standardised frozen features, stratified 5-fold, mean ± std over {a.seeds} split seeds "
        "(random encoders: a new initialisation per seed).", "", markdown_table(sv.rename_axis("features")), "",
        "## Satellite: population and carbon of a tile (24 tiles)", "",
        "Ridge with α by inner leave-one-out (13 values 0.001…1000) on standardised inputs, outer leave-one-out, log1p targets; "
        f"random features: {a.seeds} initialisations; UrbanFusion: `UrbanFusion(image=ImageFeatureConfig(weights=...))` with "
        f"every other setting the default, {a.uf_seeds} pre-training seeds, on a city of the 24 tiles (coordinates + satellite image). "
        "MuseCL: its remote-sensing branch (EfficientNet-Lite0 + 128-d head) trained with the released triplet settings (Adam 5e-4, "
        "Euclidean margin 5, 10 epochs), positives the 3 nearest tiles, from the ImageNet weights and from a random initialisation, "
        f"{a.uf_seeds} seeds. With 24 units these numbers are noisy; they say whether pretrained weights help, not by how much.", "",
        markdown_table(sat.rename_axis("embedding")), "",
        "## Throughput of feature extraction (the 200 street-view photos, 512 px JPEGs)", "",
        "`extract_image_features` reads, decodes, resizes (bicubic, 256), crops (224), normalises, runs the frozen network and "
        "writes the cache; the baseline runs the network alone on the same photos prepared beforehand as one tensor (both channels-last). "
        f"Batch 64, median of {a.repeats} interleaved repeats, measured first in the process.", "", markdown_table(thr.rename_axis("method")), ""])
    out = Path(a.out_dir)/"pretrained_images.md"
    out.parent.mkdir(parents=True, exist_ok=True); out.write_text(text, encoding="utf-8")
    print(text)

if __name__ == "__main__": main()
