"""Throughput of cached, batched feature extraction (`urbanlit.extraction`) vs a naive per-image loop.

Run: `python benchmarks/feature_extraction.py [--units 64] [--size 64] [--repeats 3] [--device cpu]`.
Prints a markdown table and writes it to `benchmarks/results/feature_extraction.md`. Times are medians of
`--repeats` runs measured in the same process; speeds are ratios against the naive loop.
"""
import argparse, os, shutil, statistics, tempfile, time
from pathlib import Path
import numpy as np, pandas as pd, torch
from PIL import Image
from urbanlit.core import get_device
from urbanlit.encoders import ImageEncoder
from urbanlit.extraction import extract_image_features


def make_images(root, n_units, size, per_unit=4, seed=0):
    rng, rows = np.random.default_rng(seed), []
    (root/"images").mkdir(parents=True, exist_ok=True)
    for u in range(n_units):
        for h in range(per_unit):
            p = root/"images"/f"u{u:04d}_{h}.png"
            Image.fromarray(rng.integers(0, 255, (size, size, 3), dtype=np.uint8)).save(p)
            rows.append((f"u{u:04d}", str(p), 90.0*h))
    return pd.DataFrame(rows, columns=["region_id", "path", "heading"])


def naive(encoder, images, units, device):
    "One image at a time, autograd on, no workers: the loop one writes first."
    encoder = encoder.to(device).eval()
    out = {}
    for rid, path in zip(images.region_id, images.path):
        x = encoder.transform(Image.open(path))[None].to(device)
        out.setdefault(rid, []).append(encoder(x).detach().cpu().numpy()[0])
    return np.stack([np.mean(out[u], 0) for u in units])


def timed(f, repeats):
    ts, res = [], None
    for _ in range(repeats):
        t = time.perf_counter(); res = f(); ts.append(time.perf_counter() - t)
    return statistics.median(ts), res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--units", type=int, default=64); ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=3); ap.add_argument("--device", default=None)
    ap.add_argument("--backbone", default="resnet18"); ap.add_argument("--workers", type=int, default=2)
    a = ap.parse_args()
    device = get_device(a.device)
    tmp = Path(tempfile.mkdtemp())
    try:
        images = make_images(tmp, a.units, a.size)
        units = sorted(images.region_id.unique())
        torch.manual_seed(0)
        enc = ImageEncoder(a.backbone, input_size=a.size)
        n_img = len(images)
        t_naive, ref = timed(lambda: naive(enc, images, units, device), a.repeats)
        rows = [("naive per-image loop", t_naive)]
        for workers in sorted({0, a.workers}):
            def cached(w=workers):
                shutil.rmtree(tmp/"out", ignore_errors=True)
                return extract_image_features(enc, images, units, tmp/"out", "f", batch_size=64, num_workers=w, device=str(device), progress=False)
            t, res = timed(cached, a.repeats)
            err = float(np.abs(np.asarray(res.values) - ref).max())
            rows.append((f"extract_image_features, batch 64, {workers} workers (max abs diff vs naive {err:.1e})", t))
        t_hit, _ = timed(lambda: extract_image_features(enc, images, units, tmp/"out", "f", progress=False), a.repeats)
        rows.append(("cache hit (second call, nothing computed)", t_hit))
        head = (f"Feature extraction, {a.backbone} at {a.size}px, {a.units} units x 4 images = {n_img} images, "
                f"device {device}, torch {torch.__version__}, {os.cpu_count()} CPUs; median of {a.repeats}.\n\n")
        table = "| method | seconds | images/s | speed-up vs naive |\n|---|---|---|---|\n" + "\n".join(
            f"| {m} | {t:.3f} | {n_img/t:.0f} | {t_naive/t:.1f}x |" for m, t in rows)
        md = head + table + "\n"
        print(md)
        out = Path(__file__).parent/"results"/"feature_extraction.md"
        out.parent.mkdir(parents=True, exist_ok=True); out.write_text(md)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
