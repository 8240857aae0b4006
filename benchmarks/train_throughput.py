"""UrbanFusion training throughput on cached features vs the same model's pure forward+backward.

Usage: python benchmarks/train_throughput.py [--units 4096] [--batch 256] [--repeats 5] [--device cpu|cuda]

Both measurements use the released width (768-d tokens, 1 block, 8 heads, MLP x4) and 5 modalities
(coords + four cached feature arrays). "train loop" is `urbanlit.train.train` over an in-memory `FeatureTable`
(data slicing, SMF sampling, schedule, clipping, logging included); "pure step" runs the identical loss,
backward and optimizer step on one batch already on the device. The ratio train/pure says whether the data
path is a bottleneck (aim >= 0.8). Each is the median over --repeats runs, measured in the same process.
Writes benchmarks/results/train_throughput.md.
"""
import argparse, statistics, time, sys
from pathlib import Path
import numpy as np, torch
from urbanlit.urbanfusion import UrbanFusionConfig, UrbanFusionNet, urbanfusion_loss
from urbanlit.train import TrainConfig, train, to_device
from urbanlit.core import get_device
sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import machine_note
from fixtures import cached_features

p = argparse.ArgumentParser()
p.add_argument("--units", type=int, default=4096); p.add_argument("--batch", type=int, default=256)
p.add_argument("--repeats", type=int, default=5); p.add_argument("--device", default=None)
args = p.parse_args()
device = get_device(args.device)
feats, stats, table = cached_features(args.units)
amp = device.type == "cuda"
cfg = UrbanFusionConfig.paper(train=TrainConfig(epochs=1, batch_size=args.batch, progress=False, device=str(device), amp=amp))
steps = args.units // args.batch

def loss_fn(model, batch, g): return urbanfusion_loss(model, batch, g, cfg.recon_weight)

def train_loop():
    net = UrbanFusionNet(cfg, {m: f.values.shape[1] for m, f in feats.items()}, stats)
    if device.type == "cuda": torch.cuda.synchronize()
    start = time.perf_counter()
    train(net, table, loss_fn, cfg.train)
    if device.type == "cuda": torch.cuda.synchronize()
    return steps * args.batch / (time.perf_counter() - start)

def pure_steps():
    net = UrbanFusionNet(cfg, {m: f.values.shape[1] for m, f in feats.items()}, stats).to(device).train()
    opt = torch.optim.AdamW(net.parameters(), lr=1e-4)
    batch = to_device(table.get_batch(np.arange(args.batch)), device)
    g = torch.Generator().manual_seed(0)
    ctx = torch.autocast("cuda", dtype=torch.bfloat16) if amp else torch.autocast("cpu", enabled=False)
    if device.type == "cuda": torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        opt.zero_grad(set_to_none=True)
        with ctx: loss = loss_fn(net, batch, g)["loss"]
        loss.backward(); torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0); opt.step()
    if device.type == "cuda": torch.cuda.synchronize()
    return steps * args.batch / (time.perf_counter() - start)

train_loop(); pure_steps()  # warm up
loop_runs, pure_runs = [], []
for _ in range(args.repeats):  # interleaved so load changes hit both alike
    loop_runs.append(train_loop()); pure_runs.append(pure_steps())
loop, pure = statistics.median(loop_runs), statistics.median(pure_runs)
lines = ["| measurement | units/s (median of %d) |" % args.repeats, "|---|---:|",
         f"| train loop on cached features (`urbanlit.train.train`) | {loop:,.0f} |", f"| pure forward+backward+step, batch already on device | {pure:,.0f} |",
         "", f"**ratio train loop / pure step: {loop / pure:.2f}** (device: {device}, {torch.get_num_threads()} threads, {args.units} units, batch {args.batch}, 768-d tokens, 5 modalities)"]
text = "\n".join(lines)
print(text)
out = Path(__file__).parent/"results"/f"train_throughput_{device.type}.md"
out.parent.mkdir(exist_ok=True)
out.write_text(f"Command: `python benchmarks/train_throughput.py --units {args.units} --batch {args.batch} --repeats {args.repeats}`\n\nMachine: {machine_note()} (at the end of the run).\n\n{text}\n")
