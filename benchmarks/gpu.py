"""What a GPU does for urbanlit: UrbanFusion training-step throughput and MFU in bf16, frozen feature extraction in images/s,
and DistributedDataParallel over every visible GPU.

Run where a GPU is lent: `python benchmarks/gpu.py` (writes `benchmarks/results/gpu_<device>.md`). It also runs on a
CPU with `--device cpu --quick` (small sizes, no DDP unless `--ddp-ranks 2`), which is how it is checked without a GPU;
a CPU run writes `gpu_cpu_check.md`, never over a GPU's file.

1. Training step: `UrbanFusionConfig.paper()` (768-d tokens, 1 block, 8 heads, MLP x4), 5 modalities (coords + four
   cached 512/244/48-d feature arrays), batch `--batch`, one step = SMF loss, backward, clipping, AdamW; bf16 autocast
   and TF32 on CUDA. FLOPs per step are counted once with `torch.utils.flop_counter.FlopCounterMode`; MFU = achieved
   FLOP/s / the device's dense bf16 peak (a table of known devices; "n/a" otherwise). Median of `--repeats` timings of
   `--steps` steps each, after a warm-up.
2. Extraction: `extract_image_features` with the registry's pretrained EfficientNet-Lite0 at 224 px on synthetic
   512 x 384 JPEGs, batch 256 (GPU) / 64 (CPU), `--workers` loader processes; images/s against the network alone on
   prepared tensors, medians of interleaved repeats.
3. DDP: the same training step under torchrun with one process per GPU (`--ddp-ranks`, default: every visible GPU),
   units/s summed over ranks, and its ratio to one GPU's units/s (scaling efficiency = ratio / ranks).
"""
from __future__ import annotations
import argparse, json, os, shutil, statistics, subprocess, sys, tempfile, time
from pathlib import Path
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import machine_note
from fixtures import cached_features, smooth_jpegs

PEAK_BF16_TFLOPS = {"H100": 989.0, "H200": 989.0, "A100": 312.0, "L4": 121.0, "A10": 125.0, "RTX 4090": 165.0}  # dense, no sparsity

def peak_tflops(device)->float|None:
    import torch
    if device.type != "cuda": return None
    name = torch.cuda.get_device_name(device)
    return next((v for k, v in PEAK_BF16_TFLOPS.items() if k in name), None)

def step_setup(units:int, batch:int, device):
    import torch
    from urbanlit.urbanfusion import UrbanFusionConfig, UrbanFusionNet
    from urbanlit.train import TrainConfig, to_device
    feats, stats, table = cached_features(units)
    cfg = UrbanFusionConfig.paper(train=TrainConfig(epochs=1, batch_size=batch, progress=False, device=str(device)))
    torch.manual_seed(0)
    net = UrbanFusionNet(cfg, {m: f.values.shape[1] for m, f in feats.items()}, stats).to(device).train()
    batch_data = to_device(table.get_batch(np.arange(batch)), device)
    return cfg, net, batch_data

def run_steps(cfg, model, batch_data, device, steps:int):
    "Seconds for `steps` training steps (model may be DDP-wrapped)."
    import torch
    from urbanlit.urbanfusion import urbanfusion_loss
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    g = torch.Generator().manual_seed(0)
    ctx = (lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if device.type == "cuda" else (lambda: torch.autocast("cpu", enabled=False))
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    sync(); start = time.perf_counter()
    for _ in range(steps):
        opt.zero_grad(set_to_none=True)
        with ctx(): loss = urbanfusion_loss(model, batch_data, g, cfg.recon_weight)["loss"]
        loss.backward(); torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0); opt.step()
    sync()
    return time.perf_counter() - start

def step_flops(cfg, net, batch_data, device)->float:
    import torch
    from torch.utils.flop_counter import FlopCounterMode
    from urbanlit.urbanfusion import urbanfusion_loss
    g = torch.Generator().manual_seed(0)
    ctx = torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else torch.autocast("cpu", enabled=False)
    with FlopCounterMode(display=False) as counter:
        with ctx: loss = urbanfusion_loss(net, batch_data, g, cfg.recon_weight)["loss"]
        loss.backward()
    net.zero_grad(set_to_none=True)
    return float(counter.get_total_flops())

def training(a, device)->dict:
    cfg, net, batch_data = step_setup(a.units, a.batch, device)
    flops = step_flops(cfg, net, batch_data, device)
    run_steps(cfg, net, batch_data, device, max(2, a.steps // 4))  # warm-up
    times = [run_steps(cfg, net, batch_data, device, a.steps) for _ in range(a.repeats)]
    seconds = statistics.median(times) / a.steps
    peak = peak_tflops(device)
    return {"units_per_s": a.batch / seconds, "step_ms": 1e3 * seconds, "tflops": flops / seconds / 1e12,
            "mfu": None if peak is None else flops / seconds / 1e12 / peak, "gflop_per_step": flops / 1e9}

def extraction(a, device)->dict:
    import torch
    from PIL import Image
    from urbanlit.encoders import ImageEncoder
    from urbanlit.extraction import extract_image_features
    tmp = Path(tempfile.mkdtemp())
    try:
        images = smooth_jpegs(tmp, a.images)
        enc = ImageEncoder("efficientnet_lite0", pretrained="efficientnet_lite0.imagenet").eval().to(device).to(memory_format=torch.channels_last)
        batch = 256 if device.type == "cuda" else 64
        x = torch.stack([enc.transform(Image.open(p)) for p in images.path]).contiguous(memory_format=torch.channels_last)
        sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
        def forward():
            with torch.inference_mode(), torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.type == "cuda"):
                for i in range(0, len(x), batch): enc(x[i:i + batch].to(device, non_blocking=True))
            sync()
        def pipeline():
            shutil.rmtree(tmp/"features", ignore_errors=True)
            extract_image_features(enc, images, list(images.region_id), tmp, "f", batch_size=batch, num_workers=a.workers, device=str(device), progress=False, shard=False)
        forward(); pipeline()  # warm-up
        times = {"forward": [], "pipeline": []}
        for r in range(a.repeats):
            for name, f in ((("forward", forward), ("pipeline", pipeline)) if r % 2 == 0 else (("pipeline", pipeline), ("forward", forward))):
                t = time.perf_counter(); f(); times[name].append(time.perf_counter() - t)
        fwd, pipe = statistics.median(times["forward"]), statistics.median(times["pipeline"])
        return {"images_per_s": len(images) / pipe, "forward_images_per_s": len(images) / fwd, "ratio": fwd / pipe, "batch": batch}
    finally: shutil.rmtree(tmp, ignore_errors=True)

def ddp_worker(a):
    "One torchrun rank: the training step under DDP; rank 0 prints units/s summed over ranks."
    import torch
    import torch.distributed as dist
    from urbanlit.train import init_distributed, dist_info
    init_distributed()
    rank, world = dist_info()
    device = torch.device(f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}") if torch.cuda.is_available() and a.device != "cpu" else torch.device("cpu")
    cfg, net, batch_data = step_setup(a.units, a.batch, device)
    model = torch.nn.parallel.DistributedDataParallel(net, device_ids=[device.index] if device.type == "cuda" else None)
    run_steps(cfg, model, batch_data, device, max(2, a.steps // 4))
    times = [run_steps(cfg, model, batch_data, device, a.steps) for _ in range(a.repeats)]
    seconds = torch.tensor([statistics.median(times) / a.steps])
    dist.all_reduce(seconds, op=dist.ReduceOp.MAX)  # the slowest rank sets the pace
    if rank == 0: print(json.dumps({"ranks": world, "units_per_s": world * a.batch / float(seconds)}))
    dist.destroy_process_group()

def ddp(a, ranks:int)->dict|None:
    env = dict(os.environ, URBANLIT_DEVICE=a.device or os.environ.get("URBANLIT_DEVICE", ""), OMP_NUM_THREADS="1")
    args = [sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={ranks}", "--master_port=29541", __file__, "--ddp-worker",
            "--units", str(a.units), "--batch", str(a.batch), "--steps", str(a.steps), "--repeats", str(a.repeats)] + (["--device", a.device] if a.device else [])
    run = subprocess.run(args, capture_output=True, text=True, env=env, timeout=1800)
    if run.returncode != 0: print(run.stderr[-3000:], file=sys.stderr); return None
    return json.loads([l for l in run.stdout.splitlines() if l.startswith("{")][-1])

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default=None, help="cuda (default when available) or cpu")
    p.add_argument("--quick", action="store_true", help="small sizes, to check the script on a CPU")
    p.add_argument("--units", type=int, default=None); p.add_argument("--batch", type=int, default=None)
    p.add_argument("--steps", type=int, default=None); p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--images", type=int, default=None); p.add_argument("--workers", type=int, default=None)
    p.add_argument("--ddp-ranks", type=int, default=None, help="processes for the DDP part (default: the visible GPUs; 0 skips it)")
    p.add_argument("--ddp-worker", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    import torch
    from urbanlit.core import get_device
    device = get_device(a.device)
    gpu = device.type == "cuda"
    a.units = a.units or (4096 if a.quick else 65536); a.batch = a.batch or (64 if a.quick else (1024 if gpu else 256))
    a.steps = a.steps or (4 if a.quick else 50); a.images = a.images or (64 if a.quick else 2048)
    a.workers = a.workers if a.workers is not None else (0 if a.quick else min(8, os.cpu_count() or 1))
    if a.ddp_worker: return ddp_worker(a)
    if gpu: torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    name = torch.cuda.get_device_name(device) if gpu else "cpu"
    print(f"device: {name}", flush=True)
    t = training(a, device); print("training:", t, flush=True)
    e = extraction(a, device); print("extraction:", e, flush=True)
    ranks = a.ddp_ranks if a.ddp_ranks is not None else (torch.cuda.device_count() if gpu else 0)
    d = ddp(a, ranks) if ranks and ranks > 1 else None
    if d: print("ddp:", d, flush=True)
    fmt = lambda v, f: "n/a" if v is None else format(v, f)
    lines = [f"# GPU benchmark: {name}", "",
             f"Command: `python benchmarks/gpu.py{' --device ' + a.device if a.device else ''}{' --quick' if a.quick else ''}`; torch {torch.__version__}. Machine: {machine_note()}.", "",
             "| measurement | value |", "|---|---:|",
             f"| UrbanFusion (paper width, 768-d) training step, batch {a.batch}{', bf16' if gpu else ''} | {t['step_ms']:.1f} ms, {t['units_per_s']:,.0f} units/s |",
             f"| FLOPs per step (FlopCounterMode) | {t['gflop_per_step']:.1f} GFLOP |",
             f"| achieved | {t['tflops']:.2f} TFLOP/s |",
             f"| MFU (of the dense bf16 peak) | {fmt(t['mfu'], '.1%')} |",
             f"| extraction, EfficientNet-Lite0 224 px, batch {e['batch']}, {a.workers} workers | {e['images_per_s']:,.0f} images/s |",
             f"| the network alone on prepared tensors | {e['forward_images_per_s']:,.0f} images/s (extraction = {e['ratio']:.2f} of it) |"]
    if d: lines.append(f"| DDP, {d['ranks']} ranks, batch {a.batch} per rank | {d['units_per_s']:,.0f} units/s = {d['units_per_s'] / t['units_per_s']:.2f}× one device (efficiency {d['units_per_s'] / t['units_per_s'] / d['ranks']:.0%}) |")
    out = Path(__file__).resolve().parent/"results"/(f"gpu_{name.replace(' ', '_').replace('/', '_')}.md" if gpu else "gpu_cpu_check.md")
    out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))

if __name__ == "__main__":
    main()
