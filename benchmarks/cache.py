"""Trained models shared between benchmark scripts, so that re-scoring every result file does not retrain the same
models three times (`recipe.py`, `hafusion_cities.py` and `seed_variance.py` all train the default and stable
recipes on Chicago-77 with the same seeds).

Off unless `$URBANLIT_BENCH_CACHE` names a folder. A model is reused only when its config (seed included), the
city's data, urbanlit's code and the numpy and torch versions are all the same as when it was trained: the key is a
digest of them, so a changed line of `urbanlit/` trains afresh. Training is deterministic for a given seed on the CPU, so a reused model
gives the embeddings a new one would (`python benchmarks/cache.py` checks that).
"""
from __future__ import annotations
import functools, hashlib, json, os, shutil
from pathlib import Path
import numpy as np, pandas as pd

CACHE_ENV = "URBANLIT_BENCH_CACHE"
counts = {"trained": 0, "reused": 0}  # UrbanFusion models of this process: trained, or read from the cache (a report says which)

def _sha(*parts)->str:
    h = hashlib.sha256()
    for p in parts: h.update(p if isinstance(p, bytes) else str(p).encode())
    return h.hexdigest()

@functools.lru_cache(maxsize=None)  # the package does not change while a script runs
def code_digest()->str:
    "A digest of urbanlit's source files: any change to the package trains afresh."
    import urbanlit
    files = sorted(Path(urbanlit.__file__).parent.rglob("*.py"))
    return _sha(*[f.relative_to(Path(urbanlit.__file__).parent).as_posix().encode() + f.read_bytes() for f in files])

def city_digest(city)->str:
    "A digest of what a model reads of a city: region ids and centroids, POIs, trips, feature arrays and masks, image index (not its labels)."
    hashed = lambda df: (str(list(df.columns)).encode() + pd.util.hash_pandas_object(df, index=True).to_numpy().tobytes()) if df is not None else b"-"
    array = lambda a: f"{a.dtype}{a.shape}".encode() + np.ascontiguousarray(a).tobytes()
    parts = [city.name, "\n".join(map(str, city.region_ids)), hashed(city.pois), hashed(city.mobility)]
    if city.has_geometry: parts.append(array(city.coords()))  # the coords modality reads the centroids
    for name in sorted(city.features): parts += [name, array(city.features[name])]
    for name in sorted(city.feature_masks): parts += [name, array(city.feature_masks[name])]
    for name in sorted(city.images): parts += [name, hashed(city.images[name])]  # the image index (paths), not the pixels
    return _sha(*parts)

def _slot(kind:str, config:dict, city)->Path|None:
    root = os.environ.get(CACHE_ENV)
    if not root: return None
    import torch
    versions = f"numpy {np.__version__}, torch {torch.__version__}"  # another torch may train other numbers from the same seed
    return Path(root)/f"{kind}-{_sha(kind, json.dumps(config, sort_keys=True), city_digest(city), code_digest(), versions)[:20]}"

def fit_urbanfusion(config, city):
    "`UrbanFusion(config).fit(city)`, or the same model trained earlier, read from the cache."
    from urbanlit.urbanfusion import UrbanFusion
    slot = _slot("urbanfusion", config.to_dict(), city)
    if slot is not None and (slot/"done").exists():
        counts["reused"] += 1
        return UrbanFusion.load(slot)
    model = UrbanFusion(config).fit(city)
    counts["trained"] += 1
    if slot is not None:
        shutil.rmtree(slot, ignore_errors=True)
        model.save(slot); (slot/"done").touch()
    return model

def embedding(kind:str, config:dict, city, make)->pd.DataFrame:
    "`make()` (an embedding DataFrame), or the same embedding made earlier with this config on this city, read from the cache."
    slot = _slot(kind, config, city)
    if slot is not None and (slot/"done").exists(): return pd.read_parquet(slot/"embedding.parquet")
    frame = make()
    if slot is not None:
        slot.mkdir(parents=True, exist_ok=True)
        frame.to_parquet(slot/"embedding.parquet"); (slot/"done").touch()
    return frame

if __name__ == "__main__":  # a reused model gives the embeddings a fresh one does
    import sys, tempfile, warnings
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    warnings.filterwarnings("ignore")
    from urbanlit.converters import find_shared_data
    from urbanlit.urbanfusion import UrbanFusionConfig
    from urbanlit.train import TrainConfig
    from recipe import load
    city = load("chicago77", find_shared_data())
    config = UrbanFusionConfig(train=TrainConfig(seed=3, progress=False, device="cpu"))
    with tempfile.TemporaryDirectory() as root:
        os.environ[CACHE_ENV] = root
        first = fit_urbanfusion(config, city).transform(city)
        again = fit_urbanfusion(config, city).transform(city)  # read back
        os.environ.pop(CACHE_ENV)
        fresh = fit_urbanfusion(config, city).transform(city)
    print("cached == fresh:", np.array_equal(again.to_numpy(), fresh.to_numpy()), "| first == fresh:", np.array_equal(first.to_numpy(), fresh.to_numpy()))
