"""How much running each SMF view on its own tokens saves (issue 20, point 1).

Usage: python benchmarks/smf_slicing.py [--units 2048] [--batch 256] [--repeats 7] [--threads 1]

An SMF view holds k or M - k of a unit's M modalities, yet a masked Transformer pass still computes all M tokens.
`UrbanFusionNet.fused_view` hands the Transformer only the view's columns (and only the units that take part in the
loss); `slice_views = False` restores the full masked pass. Both give the same loss and gradients (tested in
`nbs/08_models.ipynb`); this script measures the speed, with the loss of both paths printed beside it.

Two configurations, 5 modalities (coords + four cached feature arrays, 10 % of each missing at random):
- the paper's width (768-d tokens, 1 block, 8 heads, MLP x4), one member;
- the `recommended` preset as `urbanlit pretrain` builds it for this many units.
For each: one training step (loss, backward, clipping, AdamW step) on a batch already in memory, and one epoch of
`urbanlit.train.train` over the table. Sliced and full runs alternate (so load changes hit both alike); the table
gives medians over --repeats, the ratio full / sliced (> 1: slicing is faster), the machine's load and threads.
Writes benchmarks/results/smf_slicing.md.
"""
from __future__ import annotations
import argparse, statistics, sys, time
from pathlib import Path
import numpy as np, torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import machine_note
from fixtures import cached_features

def configs(units:int, batch:int):
    from urbanlit.urbanfusion import UrbanFusionConfig
    from urbanlit.train import TrainConfig
    from urbanlit.cli import model_config
    paper = UrbanFusionConfig.paper(train=TrainConfig(epochs=1, batch_size=batch, progress=False, device="cpu"))
    recommended = model_config("urbanfusion", "recommended", device="cpu")
    import dataclasses
    from urbanlit.urbanfusion import auto_schedule
    schedule = auto_schedule(units)
    recommended = dataclasses.replace(recommended, train=dataclasses.replace(recommended.train, epochs=1, batch_size=schedule["batch_size"], progress=False))
    return {"paper width (768-d, 1 member)": paper, f"recommended preset ({recommended.members} members, {recommended.dim}-d, depth {recommended.depth})": recommended}

def make_net(config, feats, stats, sliced:bool):
    from urbanlit.urbanfusion import UrbanFusionEnsemble
    torch.manual_seed(0)
    net = UrbanFusionEnsemble(config, {m: f.values.shape[1] for m, f in feats.items()}, stats)
    for member in net.members: member.slice_views = sliced
    return net.train()

def step_time(config, feats, stats, table, sliced:bool, steps:int=5)->tuple[float, float]:
    "Seconds per training step on one batch held in memory, and the first step's loss."
    from urbanlit.urbanfusion import urbanfusion_loss
    net = make_net(config, feats, stats, sliced)
    opt = torch.optim.AdamW(net.parameters(), lr=1e-4)
    batch = table.get_batch(np.arange(config.train.batch_size))
    g = torch.Generator().manual_seed(0)
    losses, start = [], time.perf_counter()
    for _ in range(steps):
        opt.zero_grad(set_to_none=True)
        loss = urbanfusion_loss(net, batch, g, config.recon_weight)["loss"]
        loss.backward(); torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0); opt.step()
        losses.append(float(loss.detach()))
    return (time.perf_counter() - start) / steps, losses[0]

def epoch_time(config, feats, stats, table, sliced:bool)->float:
    "Seconds for one epoch of `urbanlit.train.train` over the whole table."
    from urbanlit.urbanfusion import urbanfusion_loss
    from urbanlit.train import train
    net = make_net(config, feats, stats, sliced)
    start = time.perf_counter()
    train(net, table, lambda model, batch, g: urbanfusion_loss(model, batch, g, config.recon_weight), config.train)
    return time.perf_counter() - start

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--units", type=int, default=2048); p.add_argument("--batch", type=int, default=256)
    p.add_argument("--repeats", type=int, default=7); p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    feats, stats, table = cached_features(args.units)
    rows = []
    for name, config in configs(args.units, args.batch).items():
        step_time(config, feats, stats, table, True, 1); step_time(config, feats, stats, table, False, 1)  # warm up
        runs = {True: [], False: []}
        loss = {}
        epochs = {True: [], False: []}
        for r in range(args.repeats):
            for sliced in ((True, False) if r % 2 == 0 else (False, True)):  # alternate which goes first
                seconds, loss[sliced] = step_time(config, feats, stats, table, sliced)
                runs[sliced].append(seconds)
                if r < 3: epochs[sliced].append(epoch_time(config, feats, stats, table, sliced))
        s, f = statistics.median(runs[True]), statistics.median(runs[False])
        es, ef = statistics.median(epochs[True]), statistics.median(epochs[False])
        rows.append(f"| {name} | {config.train.batch_size} | {f / s:.2f}× | {ef / es:.2f}× | {loss[True]:.5f} / {loss[False]:.5f} |")
        print(rows[-1], flush=True)
    text = "\n".join([
        f"Command: `python benchmarks/smf_slicing.py --units {args.units} --batch {args.batch} --repeats {args.repeats} --threads {args.threads}`", "",
        f"Machine: {machine_note()} (at the end of the run).", "",
        "Speed-up from running each SMF view on its own rows and columns (`fused_view`) over the full masked pass "
        f"(`slice_views = False`), 5 modalities, {args.units} units. Ratios are medians of {args.repeats} interleaved runs "
        "(step) and of 3 (epoch); > 1 means slicing is faster. The first loss of both paths, from the same initialisation and views, shows they compute the same thing.", "",
        "| configuration | batch | training step: full / sliced | one epoch of `train`: full / sliced | first loss: sliced / full |",
        "|---|---:|---:|---:|---|", *rows])
    out = Path(__file__).resolve().parent/"results"/"smf_slicing.md"
    out.write_text(text + "\n")
    print(text)

if __name__ == "__main__":
    main()
