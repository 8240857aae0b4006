"""Check that the README's result tables are what `benchmarks/results/*.md` say now.

The result cells of `nbs/index.ipynb` (code cells marked `#| echo: false`) build their tables from the result files
(`benchmarks/results.py`). This re-runs each of them and compares with the output committed in the notebook (which
`.ci/make_readme.py` turns into README.md). It fails when a result file lost a table, row or column the README reads
(its format drifted), or when the committed numbers differ from the files (re-run `nbs/index.ipynb`).
Usage: python .ci/check_results.py
"""
import ast, os, sys
from pathlib import Path
import nbformat

root = Path(__file__).resolve().parent.parent
nb = nbformat.read(root/"nbs"/"index.ipynb", as_version=4)
os.chdir(root/"nbs")  # the notebook's own working directory
namespace, failures, checked = {}, [], 0
for cell in nb.cells:
    if cell.cell_type != "code": continue
    source = cell.source.lstrip()
    if source.startswith("#| hide") and "from results import" in source:
        exec(compile(source, "<index helper>", "exec"), namespace)
    elif source.startswith("#| echo: false"):
        try:
            tree = ast.parse(source)
            *body, last = tree.body
            exec(compile(ast.Module(body=body, type_ignores=[]), "<index cell>", "exec"), namespace)
            fresh = eval(compile(ast.Expression(last.value), "<index cell>", "eval"), namespace).data
        except Exception as e:
            failures.append(f"a README result cell failed ({type(e).__name__}: {e}):\n{source}"); continue
        committed = "".join(o.get("data", {}).get("text/markdown", "") for o in cell.get("outputs", []))
        if committed.strip() != fresh.strip():
            failures.append(f"the committed README table differs from benchmarks/results (re-run nbs/index.ipynb):\n{source}")
        checked += 1
if checked == 0: failures.append("nbs/index.ipynb has no result cell (`#| echo: false`) to check")
for f in failures: print(f"results: {f}", file=sys.stderr)
print(f"results: {checked} README result tables checked, {len(failures)} problem(s)")
sys.exit(1 if failures else 0)
