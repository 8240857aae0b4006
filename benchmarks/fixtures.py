"""Inputs shared by the training benchmarks (`train_throughput.py`, `smf_slicing.py`, `gpu.py`): synthetic cached
features in the shapes UrbanFusion meets on a real city, so that their timings are of the same work."""
from __future__ import annotations
import numpy as np

def cached_features(units:int, seed:int=0):
    """(features, z-scoring statistics, `FeatureTable`) of `units` synthetic units: coordinates plus four cached feature
    arrays (244-d POI, 48-d mobility, two 512-d image modalities), 10 % of each missing at random."""
    from urbanlit.data import RegionFeatures
    from urbanlit.inputs import fit_standardization
    from urbanlit.urbanfusion import FeatureTable
    rng = np.random.default_rng(seed)
    ids = [f"u{i}" for i in range(units)]
    lonlat = np.column_stack([rng.uniform(8.4, 8.7, units), rng.uniform(47.3, 47.5, units)])
    feats = {"coords": RegionFeatures(lonlat, ids, np.ones(units, bool), name="coords")}
    for m, d in {"poi": 244, "mobility": 48, "satellite": 512, "streetview": 512}.items():
        avail = rng.random(units) > 0.1
        feats[m] = RegionFeatures(rng.normal(size=(units, d)) * avail[:, None], ids, avail, name=m)
    stats = fit_standardization({m: f.values for m, f in feats.items()}, {m: f.available for m, f in feats.items()})
    return feats, stats, FeatureTable(feats, list(feats))

def smooth_jpegs(root, n_units:int, per_unit:int=1, seed:int=0):
    "512 x 384 JPEGs of smooth random fields (a coarse noise grid upsampled, so they compress and decode like photos), `per_unit` per unit, as an image table."
    from pathlib import Path
    import pandas as pd
    from PIL import Image
    rng, rows, folder = np.random.default_rng(seed), [], Path(root)/"images"
    folder.mkdir(parents=True, exist_ok=True)
    for u in range(n_units):
        for h in range(per_unit):
            p = folder/f"u{u:05d}_{h}.jpg"
            Image.fromarray(rng.integers(0, 255, (12, 16, 3), dtype=np.uint8)).resize((512, 384), Image.BICUBIC).save(p, quality=90)
            rows.append((f"u{u:05d}", str(p)))
    return pd.DataFrame(rows, columns=["region_id", "path"])
