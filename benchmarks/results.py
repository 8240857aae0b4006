"""Read the tables that the benchmark scripts write into `benchmarks/results/*.md`, for the README (`nbs/index.ipynb`).

Every number in the README comes from one of these files through `result_table` or `result_value`; nothing is pasted
by hand. `.ci/check_results.py` re-runs the README's result cells and fails when a file's tables no longer have the
rows or columns the README asks for, or when the committed README shows other numbers than the files.
"""
from __future__ import annotations
from pathlib import Path
import re

RESULTS = Path(__file__).resolve().parent/"results"

class ResultFormatError(ValueError):
    "A result file does not hold the table, row or column the README asks for."

def result_tables(name:str)->list[tuple[list[str], list[list[str]]]]:
    "The pipe tables of `benchmarks/results/NAME.md`, in order, each as (header cells, rows of cells)."
    path = RESULTS/f"{name}.md"
    if not path.is_file(): raise ResultFormatError(f"{path} does not exist: run the benchmark that writes it")
    tables, block = [], []
    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        if line.startswith("|"): block.append(line)
        elif block:
            cells = [[c.strip() for c in row.strip().strip("|").split("|")] for row in block]
            if len(cells) < 2 or not all(re.fullmatch(r":?-{3,}:?", c) for c in cells[1]):
                raise ResultFormatError(f"{path}: a table without a header separator line near {block[0][:60]!r}")
            tables.append((cells[0], cells[2:]))
            block = []
    if not tables: raise ResultFormatError(f"{path} holds no table")
    return tables

def _pick(name:str, table:int):
    tables = result_tables(name)
    if table >= len(tables): raise ResultFormatError(f"benchmarks/results/{name}.md has {len(tables)} table(s), not {table + 1}")
    return tables[table]

def _column(name:str, header:list[str], column:str)->int:
    if column not in header: raise ResultFormatError(f"benchmarks/results/{name}.md: no column {column!r} (columns: {header})")
    return header.index(column)

def _row(name:str, rows:list[list[str]], first_cell:str, header:list[str]|None=None, where:dict|None=None)->list[str]:
    "The one row whose first cell is `first_cell` (or, failing that, starts with it) and whose `where` columns hold the given values."
    if where: rows = [r for r in rows if all(r[_column(name, header, c)] == v for c, v in where.items())]
    hits = [r for r in rows if r[0] == first_cell] or [r for r in rows if r[0].startswith(first_cell)]
    if len(hits) != 1: raise ResultFormatError(f"benchmarks/results/{name}.md: {len(hits)} rows named {first_cell!r}{f' with {where}' if where else ''} (rows: {[r[0] for r in rows]})")
    return hits[0]

def result_table(name:str, table:int=0, rows:list[str]|None=None, columns:list[str]|None=None)->str:
    "Table `table` of a result file as Markdown, restricted to the rows named `rows` (first cell) and to `columns`, in the order given."
    header, body = _pick(name, table)
    keep = [0] + [_column(name, header, c) for c in columns] if columns is not None else list(range(len(header)))
    chosen = [_row(name, body, r) for r in rows] if rows is not None else body
    align = ["---"] + ["---:" if all(re.match(r"^[-−\d.*]", row[i] or "0") for row in chosen) else "---" for i in keep[1:]]
    lines = ["| " + " | ".join(header[i] for i in keep) + " |", "|" + "|".join(align) + "|"]
    return "\n".join(lines + ["| " + " | ".join(row[i] for i in keep) + " |" for row in chosen])

def result_value(name:str, row:str, column:str, table:int=0, where:dict|None=None)->str:
    "One cell of a result file's table: the row whose first cell is (or starts with) `row` and matches `where`, the column headed `column`."
    header, body = _pick(name, table)
    return _row(name, body, row, header, where)[_column(name, header, column)]

def result_line(name:str, pattern:str)->str:
    "The first match of the regular expression `pattern` (its first group) in a result file's text: a headline ratio."
    path = RESULTS/f"{name}.md"
    if not path.is_file(): raise ResultFormatError(f"{path} does not exist: run the benchmark that writes it")
    found = re.search(pattern, path.read_text(encoding="utf-8"))
    if not found: raise ResultFormatError(f"benchmarks/results/{name}.md: nothing matches {pattern!r}")
    return found.group(1)

def mean_std(row)->str:
    "A row of `urbanlit.probes.evaluate` as a table cell: mean ± std, or the mean alone for one deterministic run."
    return f"{row['mean']:.3f} ± {row['std']:.3f}" if row["n_runs"] > 1 or row["std"] > 0 else f"{row['mean']:.3f}"

def r2_table(r2, protocols, tasks:list[str], spread:bool=True):
    """(table, means, worst) of `evaluate`'s R² rows: a cell per task and protocol (mean ± std), then per protocol the
    mean R² over tasks and, with `spread`, the largest per-task std; `means` and `worst` are embedding × protocol."""
    import pandas as pd
    table = pd.DataFrame({f"{t} ({p})": {row.embedding: mean_std(row) for _, row in r2[(r2.task == t) & (r2.protocol == p)].iterrows()}
                          for p in protocols for t in tasks})
    means = r2.groupby(["protocol", "embedding"])["mean"].mean().unstack(0)
    worst = r2.groupby(["protocol", "embedding"])["std"].max().unstack(0)
    for p in protocols:
        table[f"mean R² ({p})"] = means[p].round(3)
        if spread: table[f"largest seed std ({p})"] = worst[p].round(3)
    return table, means, worst

def blank_missing(df):
    "`df` with its missing cells as empty strings, for a report (as object columns: pandas will not put a string in a float column)."
    return df.astype(object).where(df.notna(), "")

def markdown_table(df)->str:
    "A pipe table of a DataFrame with its index as the first column."
    header = [df.index.name or ""] + [str(c) for c in df.columns]
    rows = [[str(i)] + [str(v) for v in r] for i, r in zip(df.index, df.itertuples(index=False))]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] + ["---:"] * len(df.columns)) + "|"]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])

def command_line(script:str, argv:list[str])->str:
    "The command that produced a result, as a markdown code span: `python benchmarks/<script> <argv>`."
    return "`" + " ".join(["python", f"benchmarks/{script}", *argv]) + "`"

def machine_note()->str:
    "Cores, torch threads and the load average, for every benchmark result."
    import os
    try: import torch; threads = torch.get_num_threads()
    except ImportError: threads = "n/a"
    load = os.getloadavg() if hasattr(os, "getloadavg") else ("n/a",) * 3
    return f"{os.cpu_count()} CPU cores, torch threads {threads}, load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1/5/15 min)"
