"""Reliability figures: faults survived, fuzz cases, corruptions detected, concurrent writers refused (`urbanlit.reliability`).

Run: `python benchmarks/reliability.py [--kill-points 24] [--seed 0] [--fuzz-examples 300] [--flips 3]`.
Prints a markdown table and writes it to `benchmarks/results/reliability.md`.

- Faults: the pipeline (save city -> extract image features -> pretrain UrbanFusion -> export embeddings) runs once
  uninterrupted; then, for each kill point (stage in turn, moment within the stage drawn from `--seed`), a fresh run is
  SIGKILLed, every finished output left behind is opened with its verifying loader, the same command is rerun, and all
  output files are compared bit for bit with the uninterrupted run. Survived = outputs whole + rerun identical.
- Fuzz: hypothesis cases per loader (derandomized), each accepted correctly or refused with UrbanlitInputError.
- Corruptions: every output file (copied images excepted) truncated, cut by one byte, emptied, deleted and bit-flipped
  `--flips` times; detected = UrbanlitInputError on load; harmless = the loaded content is unchanged.
- Concurrency: a second pipeline process started on the same output while the first runs must be refused.
"""
import argparse, os, platform, shutil, tempfile, threading, time
from pathlib import Path
import pandas as pd
from urbanlit._testing.reliability import (kill_test, kill_points, corruption_matrix, fuzz_loaders, run_pipeline, output_digests,
                                           PIPELINE_STAGES)  # test support: runs from a source checkout


def faults(out, n, seed):
    "Kill points grouped by the stage the kill actually landed in (load can shift it from the aimed one)."
    table, reference = kill_test(out, kill_points(n, seed))
    landed = table[table.killed_in.isin(PIPELINE_STAGES)]
    by_stage = landed.groupby("killed_in").agg(tried=("survived", "size"), survived=("survived", "sum")).reindex(list(PIPELINE_STAGES), fill_value=0)
    return table, reference, by_stage


def concurrency(out, reference):
    "Start a second run while a first one writes `out`; the second must be refused and the first unharmed."
    shutil.rmtree(out, ignore_errors=True)
    results = {}
    def second(proc):
        results["second"] = run_pipeline(out)
    first = run_pipeline(out, kill_stage="extract", kill_after=900, while_running=second, timeout=900)  # finishes long before the "kill"
    refused = results["second"]["returncode"] != 0 and "is being written by another urbanlit process" in results["second"]["stderr"]
    return {"first ok": first["returncode"] == 0 and output_digests(out) == reference["digests"], "second refused": refused}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kill-points", type=int, default=24)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--fuzz-examples", type=int, default=300)
    ap.add_argument("--flips", type=int, default=3)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="urbanlit-reliability-"))
    out = work/"out"
    started = time.time()
    kills, reference, by_stage = faults(out, args.kill_points, args.seed)
    print(kills[["stage", "after_s", "killed_in", "outputs_whole", "identical", "error"]].to_string())
    conc = concurrency(out, reference)
    shutil.rmtree(out, ignore_errors=True)
    run_pipeline(out)
    damage = corruption_matrix(out, flips=args.flips, seed=args.seed)
    fuzz = fuzz_loaders(args.fuzz_examples)
    cmd = "python benchmarks/reliability.py"
    opts = f"--kill-points {args.kill_points} --seed {args.seed}"
    lines = [f"# Reliability", "",
             f"Machine: {os.cpu_count()} CPU cores, Python {platform.python_version()}, load average at the end "
             f"{os.getloadavg()[0]:.1f}; total {time.time() - started:.0f} s.", "",
             "| check | tried | passed | reproduce |", "|---|---:|---:|---|"]
    for stage, row in by_stage.iterrows():
        lines.append(f"| SIGKILL during {stage.replace('_', ' ')}: resumed, outputs bitwise identical, no half-written file | "
                     f"{int(row.tried)} | {int(row.survived)} | `{cmd} {opts}` |")
    landed = kills.killed_in.isin(PIPELINE_STAGES)
    lines.append(f"| **all kill points** | **{int(landed.sum())}** | **{int(kills[landed].survived.sum())}** | `{cmd} {opts}` |")
    for target, row in fuzz.iterrows():
        lines.append(f"| fuzzed {target} files: accepted correctly or `UrbanlitInputError` ({int(row.accepted)} accepted, {int(row.refused)} refused) | "
                     f"{int(row.tried)} | {int(row.tried)} | `{cmd} --fuzz-examples {args.fuzz_examples}` |")
    ok = damage.outcome.isin(["detected", "harmless"])
    for output, part in damage.assign(ok=ok, output=damage.file.str.split("/").str[0].replace({"model": "checkpoint / feature cache"})).groupby("output"):
        det, harmless = int((part.outcome == "detected").sum()), int((part.outcome == "harmless").sum())
        lines.append(f"| damaged {output} files ({det} detected, {harmless} harmless) | {len(part)} | {int(part.ok.sum())} | `{cmd} --flips {args.flips}` |")
    lines.append(f"| second writer on the same output refused, first run unharmed | 1 | {int(conc['second refused'] and conc['first ok'])} | `{cmd}` |")
    late = int((~landed).sum())
    if late: lines += ["", f"{late} more kill point(s) landed after the run had finished its work (not counted; their rerun was identical too: "
                           f"{bool(kills[~landed].survived.all())})."]
    lines += ["", "Damage = truncated to half, last byte dropped, emptied, deleted, and one bit flipped at "
              f"{args.flips} random positions, for every output file (copied images excepted: urbanlit does not checksum images). "
              "Detected = `UrbanlitInputError` when reopened; harmless = the bit flip hit bytes no reader uses and the loaded content is unchanged. "
              "Kill points: aimed at the stages in turn, at a uniformly random moment within the stage (as timed in the uninterrupted run), from the seed; "
              "counted under the stage the kill landed in."]
    if not ok.all(): lines += ["", "Undetected damage:", "", damage[~ok].to_markdown(index=False)]
    text = "\n".join(lines) + "\n"
    print(text)
    results = Path(__file__).parent/"results"
    results.mkdir(exist_ok=True)
    (results/"reliability.md").write_text(text)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
