"""Settings of UrbanFusion's default recipe that a label-free criterion chooses: the training objective on units the
networks never trained on (held-out self-supervised loss), one setting varied at a time, on a shared real city.

Run: `python benchmarks/heldout_selection.py [--city chicago77|manhattan270 ...] [--vary epochs=25,50,100,200]
[--vary dropout=0,0.1,0.3,0.5] [--folds 5] [--seeds 1] [--label-seeds 5]` (from the repository root, with
`../shared/data` beside the checkout). Writes `benchmarks/results/heldout_selection.md` (all cities given, in one file).

Why: `recipe_selection.py`'s criteria read what an embedding keeps of its inputs, and their choices lost on labels.
This one asks the question a machine-learning practitioner asks first: does the network do better at its own task on
units it has not seen? On 77 or 270 regions a network can learn each unit by heart, and a held-out loss sees that.

The criterion, fixed before its full run. No label score enters it, but its grid was not chosen blind: smoke runs on
Chicago-77 had shown its held-out losses for epochs and dropout, and before them ad-hoc runs had scored the default
recipe at 25, 50 and 300 epochs on Chicago-77's labels (mean R² under HAFusion's protocol 0.569, 0.641 and 0.567,
against 0.675 at 100), and a smoke run of this script had printed one seed's scores at 3 epochs and at dropout 0.3.

1. the city's units are cut into `folds` parts over a fixed random order (one order per seed); for each part and each
   candidate, the recipe trains on the other parts only (five members; the batch size `auto_schedule` gives the whole
   city; its inputs prepared and standardised on the whole city, as `fit` prepares them);
2. the held-out loss is the default recipe's training objective (SMF: InfoNCE between two disjoint modality views plus
   λ = 0.75 times the reconstruction of every modality, averaged over members) on the held-out part as one batch,
   averaged over 20 draws of the views, the networks in evaluation mode (no dropout);
3. each `--vary` changes one setting of the default, the default's own value included; the criterion takes, per
   setting, the value with the lowest held-out loss averaged over parts and seeds, and the criterion's recipe is the
   default with every such value (one setting at a time, then combined; the combination's held-out loss is measured
   too). Settings that change the objective itself (λ, the temperature, the view scheme) cannot be compared by it
   and are refused.

Labels enter only afterwards, for reference: the default, each single change the criterion made and the criterion's
recipe, trained on the whole city (`--label-seeds` seeds) and scored as `recipe.py` scores (this city's literature
protocol and `spatial_blocks`). They do not enter the choice. This script does not change the default.

What its first full run found (`benchmarks/results/heldout_selection.md`), the same on both cities:

- the held-out loss is lowest at 50 of the epochs 25, 50, 100, 200 and falls with dropout up to the grid's end (0.5),
  so the criterion's recipe is 50 epochs with dropout 0.5. Combined, the two are worse on held-out units than dropout
  0.5 alone at 100 epochs (the rule combines per-setting choices; it does not search the pairs);
- on held-out regions the default's contrastive term is above chance (ln of the part's size: about 2.7 for Chicago's
  parts of 15-16 regions, 4.0 for Manhattan's 54; the default scores 4.01 and 4.51), as is every candidate's on
  Chicago: the network tells apart the regions it trained on (training InfoNCE 0.05 and 0.56) but matches the two
  views of a region it never saw worse than a network that cannot tell regions apart at all;
- under labels, every change the criterion makes lowers the default's scores on both cities (mean R², literature
  protocol: Chicago 0.675 to 0.641, 0.644 and 0.572; Manhattan 0.602 to 0.541, 0.575 and 0.512), and the criterion's
  recipe falls below the best raw baseline on Manhattan under `spatial_blocks` (0.319 against 0.448).

So a criterion of generalisation to unseen regions points away from what the probes reward. The probes are
transductive: every region they score was in the pre-training set, and a network that has fitted each region's
inputs more closely gives them a richer map of exactly those regions. A label-free criterion that is to choose this
recipe must measure that map on the regions themselves, not on regions held out.
"""
from __future__ import annotations
import argparse, dataclasses, sys, tempfile, time, warnings
from pathlib import Path
import numpy as np, pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import markdown_table, machine_note, r2_table
from recipe import CITIES, load, fit

VIEW_DRAWS = 20  # draws of the two modality views per held-out loss
LOOP = ("epochs", "lr", "weight_decay")  # settings of the training loop that may vary
MODEL = ("dropout", "depth", "dim", "heads", "members", "mlp_ratio", "projection_dim")  # settings of the network that may vary
DEFAULT_VARY = ("epochs=25,50,100,200", "dropout=0,0.1,0.3,0.5")
DEFAULT_EPOCHS = 100  # `auto_schedule`'s epochs on cities of the shared sizes (checked per city in `run`)

OBJECTIVE = ("recon_weight", "temperature")  # settings of the training objective: a criterion that scores the objective cannot compare them
ENSEMBLE = ("member_batches", "combine")  # how the ensemble's members are batched and combined: only a criterion that trains whole models can compare them

def parse_vary(texts, allowed:tuple=LOOP + MODEL)->dict[str, list]:
    "`NAME=v1,v2,...` -> {name: values}, each value typed as the default's, the default's own value added if missing."
    out = {}
    for text in texts:
        name, _, values = text.partition("=")
        why = "; λ, the temperature and the views change the objective itself" if name in OBJECTIVE else ""
        if name not in allowed: raise SystemExit(f"--vary {name}: not a setting this criterion can compare (use one of {list(allowed)}{why})")
        out[name] = sorted({typed(name, v) for v in values.split(",") if v} | {defaults([name])[name]})
    return out

def typed(name:str, text:str):
    "`text` as a value of setting `name`, typed as the default's (an integer setting accepts `20.0`)."
    default = defaults([name])[name]
    return type(default)(float(text)) if isinstance(default, int) else type(default)(text)

def defaults(names)->dict:
    "The default recipe's value of each setting (its schedule's 100 epochs on cities of the shared sizes)."
    from urbanlit.urbanfusion import UrbanFusionConfig
    base = UrbanFusionConfig()
    return {n: (DEFAULT_EPOCHS if n == "epochs" else getattr(base.train, n)) if n in LOOP else getattr(base, n) for n in names}

def heldout_loss(city, settings:list[dict], folds:int, seeds:int, log=print)->pd.DataFrame:
    "One row per (settings, seed, part): the default objective on the held-out part and on as many training units."
    import torch
    from urbanlit.core import seed_everything
    from urbanlit.inputs import modality_features, fit_standardization
    from urbanlit.train import train
    from urbanlit.urbanfusion import UrbanFusion, UrbanFusionConfig, UrbanFusionEnsemble, FeatureTable, urbanfusion_loss, auto_schedule
    c = UrbanFusionConfig()
    mods = UrbanFusion(c)._training_modalities(city)
    feats = modality_features(city, mods, image=c.image, progress=False, count_transform=c.count_transform, location_encoder=c.location_encoder)
    dims = {m: f.values.shape[1] for m, f in feats.items()}
    stats = fit_standardization({m: f.values for m, f in feats.items()}, {m: f.available for m, f in feats.items()})
    table, n = FeatureTable(feats, mods), city.n_units
    schedule = auto_schedule(n)  # the whole city's batch size and epochs, as `fit` would train it
    objective = lambda model, b, g: urbanfusion_loss(model, b, g, c.recon_weight, c.smf_scheme, c.smf_p)  # the default's, for every candidate
    class Part:  # the training units of one part, as the training loop reads them
        def __init__(self, pos): self.pos = torch.as_tensor(pos, dtype=torch.long)
        def __len__(self): return len(self.pos)
        def get_batch(self, idx): return table.get_batch(self.pos[torch.as_tensor(np.asarray(idx), dtype=torch.long)])
        def __getitem__(self, i): return self.get_batch([i])
    def measure(net, pos)->dict:
        g = torch.Generator().manual_seed(0)
        with torch.no_grad(): draws = [objective(net, table.get_batch(pos), g) for _ in range(VIEW_DRAWS)]
        return {k: float(np.mean([float(d[k]) for d in draws])) for k in ("loss", "infonce", "reconstruction")}
    rows = []
    for s in settings:
        model = {k: v for k, v in s.items() if k in MODEL}
        loop = {k: v for k, v in s.items() if k in LOOP}
        for seed in range(seeds):
            order = np.random.default_rng(1000 + seed).permutation(n)
            for part in range(folds):
                t = time.time()
                held = np.sort(order[part::folds]); kept = np.setdiff1d(np.arange(n), held)
                seed_everything(seed)
                net = UrbanFusionEnsemble(dataclasses.replace(c, **model), dims, stats)
                cfg = dataclasses.replace(c.train, **{**schedule, **loop}, seed=seed, progress=False, device="cpu", checkpoint_minutes=0)
                with tempfile.TemporaryDirectory() as d: train(net, Part(kept), objective, cfg, out_dir=d, description="UrbanFusion (one part held out)")
                net.eval()
                rows.append({"settings": label(s), "seed": seed, "part": part, **{f"held-out {k}": v for k, v in measure(net, held).items()},
                             **{f"training {k}": v for k, v in measure(net, kept[:len(held)]).items()}})
                log(f"{city.name}: {label(s)}, seed {seed}, part {part}: held-out loss {rows[-1]['held-out loss']:.3f} ({time.time() - t:.0f} s)")
    return pd.DataFrame(rows)

def candidates(vary:dict)->list[dict]:
    "The default, then the default with one setting of `vary` changed, in `vary`'s order."
    base = defaults(vary)
    return [dict(base)] + [{**base, k: v} for k, values in vary.items() for v in values if v != base[k]]

def checked_schedule(n_units:int, name:str)->dict:
    "`auto_schedule(n_units)`, refused unless it trains `DEFAULT_EPOCHS` (the epoch count the candidates' labels name)."
    from urbanlit.urbanfusion import auto_schedule
    schedule = auto_schedule(n_units)
    if schedule["epochs"] != DEFAULT_EPOCHS: raise SystemExit(f"{name}: the recipe trains {schedule['epochs']} epochs here, not {DEFAULT_EPOCHS}")
    return schedule

def recipe_overrides(settings:dict, base:dict, batch:int)->dict:
    "The config overrides of `settings` against the default's `base`; a changed epoch count keeps the recipe's batch size `batch` (a fixed schedule would otherwise replace it)."
    over = {k: v for k, v in settings.items() if v != base[k]}
    if "epochs" in over: over["batch_size"] = batch
    return over

def choose_values(score:pd.Series, vary:dict, base:dict, lower_is_better:bool=False)->dict:
    "Per setting of `vary`, the value whose candidate (the default with that value; `score` is indexed by `label`) scores best."
    chosen = {}
    for k, values in vary.items():
        names = [label({**base, k: v}) for v in values]
        chosen[k] = values[names.index(score[names].idxmin() if lower_is_better else score[names].idxmax())]
    return chosen

def label(settings:dict)->str:
    return ", ".join(f"{k} {v:g}" if isinstance(v, float) else f"{k} {v}" for k, v in settings.items())

def run(name:str, root:Path, vary:dict, folds:int, seeds:int, label_seeds:int, log=print):
    from urbanlit.probes import evaluate, city_blocks
    import torch
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", category=FutureWarning)
    _, protocol, tasks = CITIES[name]
    city = load(name, root)
    base, schedule = defaults(vary), checked_schedule(city.n_units, name)
    t = time.time()
    losses = heldout_loss(city, candidates(vary), folds, seeds, log)
    chosen = choose_values(losses.groupby("settings")["held-out loss"].mean(), vary, base, lower_is_better=True)
    combined = {**base, **chosen}
    several = sum(chosen[k] != base[k] for k in vary) > 1  # else the combination is the default or one of the single changes
    if several: losses = pd.concat([losses, heldout_loss(city, [combined], folds, seeds, log)])
    loss_seconds = time.time() - t
    by = losses.groupby("settings", sort=False)
    summary = by[[c for c in losses.columns if c.startswith(("held-out", "training"))]].mean().round(3)
    summary.insert(1, "held-out loss, std over parts", by["held-out loss"].std().round(3))
    summary.insert(0, "role", ["the default" if s == label(base) else "the criterion's recipe" if s == label(combined) else "" for s in summary.index])
    batch = schedule["batch_size"]
    train_on_city = lambda s, seed: fit(city, seed, **recipe_overrides(s, base, batch)).transform(city)
    references = [base] + [{**base, k: chosen[k]} for k in vary if chosen[k] != base[k]] + ([combined] if several else [])
    t = time.time()
    rows = {("the default: " if s == base else "the criterion's recipe: " if s == combined else "one change: ") + label(s):
            [train_on_city(s, seed) for seed in range(label_seeds)] for s in references}
    blocks = city_blocks(city, verbose=False)
    scores = pd.concat([evaluate(rows, city.labels, tasks, protocol=protocol), evaluate(rows, city.labels, tasks, protocol="spatial_blocks", groups=blocks)])
    table, _, _ = r2_table(scores[scores.metric == "r2"], (protocol, "spatial_blocks"), tasks)
    return summary, combined, table, dict(n=city.n_units, protocol=protocol, batch=batch, loss_seconds=loss_seconds, label_seconds=time.time() - t)

def main(argv=None):
    from urbanlit.converters import find_shared_data
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--city", action="append", choices=list(CITIES), help="shared cities (default: both)")
    p.add_argument("--vary", action="append", help=f"NAME=v1,v2,...: one setting and its values (default: {' and '.join(DEFAULT_VARY)})")
    p.add_argument("--folds", type=int, default=5, help="parts the units are cut into; each is held out once")
    p.add_argument("--seeds", type=int, default=1, help="seeds of the cut and of the networks")
    p.add_argument("--label-seeds", type=int, default=5, help="pre-training seeds of the reference label scores")
    p.add_argument("--out-dir", default=str(Path(__file__).parent/"results"))
    a = p.parse_args(argv)
    root = find_shared_data()
    if root is None: print("skipped: ../shared/data not found (set URBANLIT_SHARED_DATA)"); return
    vary_texts = a.vary or list(DEFAULT_VARY)
    vary = parse_vary(vary_texts)
    cities = a.city or list(CITIES)
    parts = []
    for name in cities:
        summary, combined, table, info = run(name, Path(root), vary, a.folds, a.seeds, a.label_seeds)
        parts += [f"## {name}", "", f"{info['n']} regions, batches of ≤ {info['batch']} units; held-out losses {info['loss_seconds']:.0f} s, "
                  f"label references {info['label_seconds']:.0f} s.", "", f"The criterion's recipe: **{label(combined)}**.", "",
                  markdown_table(summary.rename_axis("settings")), "",
                  f"For reference only (labels; they play no part in the choice): R² under `{info['protocol']}` and `spatial_blocks` "
                  f"(as in `recipe_{name}.md`), mean ± std over {a.label_seeds} pre-training seeds on the whole city.", "",
                  markdown_table(table), ""]
    argv_text = " ".join([*(f"--city {c}" for c in cities), *(f"--vary {v}" for v in vary_texts), f"--folds {a.folds}", f"--seeds {a.seeds}", f"--label-seeds {a.label_seeds}"])
    text = "\n".join(["# Settings a held-out self-supervised loss chooses for UrbanFusion's default recipe", "",
        f"`python benchmarks/heldout_selection.py {argv_text}` ({machine_note()}).", "",
        "Each row: the recipe with the settings named (the rest as the default), trained with one part of the units held out; the "
        f"default's training objective (InfoNCE + λ·reconstruction, averaged over {VIEW_DRAWS} draws of the modality views) on the "
        "held-out part and on as many training units, mean over parts and seeds, and the std of the held-out loss over parts. "
        "The criterion (the script's docstring) takes, per setting, the value with the lowest mean held-out loss. Labels are read "
        "only for the reference table under it.", "", *parts])
    out = Path(a.out_dir)/"heldout_selection.md"
    out.parent.mkdir(parents=True, exist_ok=True); out.write_text(text, encoding="utf-8")
    print(text)

if __name__ == "__main__": main()
