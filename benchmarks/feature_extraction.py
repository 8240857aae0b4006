"""Throughput of cached, batched feature extraction (`urbanlit.extraction`) against the fairest baseline: the network
alone, on images prepared beforehand.

Run: `python benchmarks/feature_extraction.py [--units 64] [--repeats 5] [--threads 2] [--backbone resnet18]`.
Writes `benchmarks/results/feature_extraction.md`.

The images are 512 x 384 JPEGs (smooth random fields, so they compress and decode like photos), 4 per unit, prepared
at 224 px as the encoder's weights expect (resize of the shorter side, centre crop). Every method runs the same frozen
network, channels-last, under `torch.inference_mode`:

- forward pass alone: the images decoded, resized and normalised before the clock starts, one tensor, batches of 64
  (the baseline, 1.0: what the network costs with nothing else to do);
- `extract_image_features`, batch 64, 0 and 2 loader workers: reads, decodes, resizes, normalises, runs the network,
  averages each unit's images and writes the cache (resumable, checksummed);
- a per-image loop: the same preprocessing and network, one image at a time (no batching, no autograd);
- a cache hit: the second call, which only reads and checks the cache.

Methods alternate within each repeat, so a change of the machine's load hits all of them alike; the table gives
medians, images/s and the ratio to the forward pass alone (> 1 means faster than the network's own throughput).
"""
import argparse, shutil, statistics, sys, tempfile, time
from pathlib import Path
import numpy as np, torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import machine_note
from fixtures import smooth_jpegs

def main(argv=None):
    from urbanlit.encoders import ImageEncoder
    from urbanlit.extraction import extract_image_features
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--units", type=int, default=64); ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2, help="torch CPU threads"); ap.add_argument("--backbone", default="resnet18")
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    tmp = Path(tempfile.mkdtemp())
    try:
        images = smooth_jpegs(tmp, a.units, per_unit=4)
        units = sorted(images.region_id.unique())
        torch.manual_seed(0)
        enc = ImageEncoder(a.backbone, input_size=224).eval().to(memory_format=torch.channels_last)
        x = torch.stack([enc.transform(Image.open(p)) for p in images.path]).contiguous(memory_format=torch.channels_last)  # outside the clock
        def forward():
            with torch.inference_mode(): return torch.cat([enc(x[i:i + 64]) for i in range(0, len(x), 64)])
        def per_image():
            with torch.inference_mode(): return torch.cat([enc(enc.transform(Image.open(p))[None].contiguous(memory_format=torch.channels_last)) for p in images.path])
        def extract(workers):
            shutil.rmtree(tmp/"features", ignore_errors=True)
            return extract_image_features(enc, images, units, tmp, "f", batch_size=64, num_workers=workers, device="cpu", progress=False)
        methods = {"forward pass alone (prepared tensors, batch 64)": forward,
                   "extract_image_features, batch 64, 0 workers": lambda: extract(0),
                   "extract_image_features, batch 64, 2 workers": lambda: extract(2),
                   "per-image loop (same preprocessing and network, no batching)": per_image}
        for f in methods.values(): f()  # warm up
        times = {k: [] for k in methods}
        for r in range(a.repeats):
            order = list(methods) if r % 2 == 0 else list(methods)[::-1]
            for name in order:
                t = time.perf_counter(); methods[name](); times[name].append(time.perf_counter() - t)
        extract(0)
        hit = []
        for _ in range(a.repeats):
            t = time.perf_counter(); res = extract_image_features(enc, images, units, tmp, "f", progress=False); hit.append(time.perf_counter() - t)
        times["cache hit (second call, nothing computed)"] = hit
        per_unit = forward().view(len(units), 4, -1).mean(1).numpy()
        err = float(np.abs(np.asarray(res.values) - per_unit).max())
        base = statistics.median(times["forward pass alone (prepared tensors, batch 64)"])
        n = len(images)
        rows = [f"| {k} | {n / statistics.median(v):,.0f} | {base / statistics.median(v):.2f} |" for k, v in times.items()]
        md = "\n".join([
            f"Command: `python benchmarks/feature_extraction.py --units {a.units} --repeats {a.repeats} --threads {a.threads} --backbone {a.backbone}`", "",
            f"Machine: {machine_note()} (at the end of the run); torch {torch.__version__}.", "",
            f"{a.backbone} (random weights: speed does not depend on them) at 224 px, {a.units} units × 4 JPEGs of 512 × 384 = {n} images; "
            f"channels-last, `inference_mode` everywhere; medians of {a.repeats} interleaved repeats. The cached features equal the forward "
            f"pass's unit means to {err:.1e}.", "",
            "| method | images/s | throughput ÷ forward alone |", "|---|---:|---:|", *rows])
        print(md)
        out = Path(__file__).parent/"results"/"feature_extraction.md"
        out.parent.mkdir(parents=True, exist_ok=True); out.write_text(md + "\n")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

if __name__ == "__main__":
    main()
