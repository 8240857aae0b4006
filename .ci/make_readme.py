"""Write README.md from nbs/index.ipynb without Quarto (nbdev_readme needs it).

Usage: python .ci/make_readme.py [--check]   (--check exits 1 when README.md is out of date)
"""
import sys, re
from pathlib import Path
import nbformat
from nbconvert import MarkdownExporter

root = Path(__file__).resolve().parent.parent
nb = nbformat.read(root/"nbs"/"index.ipynb", as_version=4)
nb.metadata["language_info"] = {"name": "python"}  # fenced code blocks get ```python
nb.cells = [c for c in nb.cells if not c.source.lstrip().startswith("#| hide")]
for i, c in enumerate(nb.cells):  # result cells (`#| echo: false`): the table they print, not their code
    if c.cell_type == "code" and c.source.lstrip().startswith("#| echo: false"):
        nb.cells[i] = nbformat.v4.new_markdown_cell("".join(o.get("data", {}).get("text/markdown", "") for o in c.get("outputs", [])))
for c in nb.cells:  # keep the rendered table, drop the noisy plain-text twin of rich outputs
    for o in c.get("outputs", []):
        if "data" in o and "text/html" in o["data"]: o["data"].pop("text/plain", None)
body, _ = MarkdownExporter().from_notebook_node(nb)
body = re.sub(r"<style scoped>.*?</style>\n?", "", body, flags=re.S)
body = re.sub(r"\n{3,}", "\n\n", body).strip() + "\n"
header = "<!-- generated from nbs/index.ipynb by .ci/make_readme.py; edit the notebook, not this file -->\n\n"
text = header + body
readme = root/"README.md"
if "--check" in sys.argv:
    if readme.read_text() != text: sys.exit("README.md is out of date: run `python .ci/make_readme.py`")
else: readme.write_text(text)
