"""Render the notebooks processed by `nbdev_proc_nbs` (in _proc/) to standalone HTML pages, without Quarto.

usage: python .ci/render_docs.py render PROC_DIR OUT_DIR   -> one OUT_DIR/<path>.html per notebook; exit 1 if any fails
       python .ci/render_docs.py leaks OUT_DIR             -> exit 1 if any page shows nbdev/Quarto syntax to a reader
       python .ci/render_docs.py check PAGE.html DOM.html [--image] [--math] [--no-table]
                                                           -> check a page's rendered DOM (from `chromium --dump-dom`)
                                                              has a title, a table (unless --no-table), with --image an
                                                              image, and with --math equations typeset by MathJax (no
                                                              raw TeX left)

The committed notebooks carry their outputs, so nothing is executed here. Quarto would turn the front matter
that nbdev_proc_nbs writes (a raw cell `---\ntitle: ...\n---`) into the page's heading; nbconvert drops raw cells,
so the title and summary are put back as a heading, and links between notebooks (`x.ipynb`) point at the pages.
Pandoc attribute links that `show_doc` writes (`[source](url){target="_blank" ...}`) become HTML links, as Quarto
would make them. Equations render offline: MathJax 2 is copied from the `jupyter-server-mathjax` wheel (a dev
requirement) into OUT_DIR/_mathjax/, and no page loads a script from the network.
"""
import re, sys, traceback
from pathlib import Path

def front_matter(nb)->dict:
    "The title and description of the front-matter raw cell nbdev_proc_nbs writes (removed from the notebook)."
    import yaml
    for i, cell in enumerate(nb.cells):
        text = cell.source.strip()
        if cell.cell_type == "raw" and text.startswith("---") and text.count("---") >= 2:
            meta = yaml.safe_load(text.split("---")[1]) or {}
            del nb.cells[i]
            return meta
    return {}

MATHJAX_CONFIG = "TeX-AMS-MML_HTMLorMML-full,Safe"  # a configuration the jupyter-server-mathjax wheel ships
LEAKS = {"an nbdev/Quarto directive (#| ...)": r"(?m)^\s*#\|", "a show_doc call": r"show_doc\(",
         "a Pandoc attribute ({target=...})": r"\]\([^)]*\)\{[^}]*\}|\{target=", "a Quarto div fence (:::)": r"(?m)^\s*:::",
         "a processing error": r"Traceback \(most recent call last\)"}

def copy_mathjax(out:Path)->Path:
    "Copy MathJax's static files from the jupyter-server-mathjax package to OUT/_mathjax; returns MathJax.js."
    import shutil, jupyter_server_mathjax
    static = Path(jupyter_server_mathjax.__file__).parent/"static"
    dst = out/"_mathjax"
    if not dst.exists(): shutil.copytree(static, dst)
    return dst/"MathJax.js"

PANDOC_LINK = re.compile(r'\[([^\]]*)\]\(([^)\s]+)\)\{([^}]*)\}')

def pandoc_links(text:str)->str:
    "`[text](url){target=\"_blank\" style=\"...\"}` (Pandoc link attributes) -> an HTML link with those attributes."
    return PANDOC_LINK.sub(lambda m: f'<a href="{m.group(2)}" {m.group(3)}>{m.group(1)}</a>', text)

def render_one(src:Path, dst:Path, mathjax_js:Path|None=None):
    import nbformat
    from nbconvert import HTMLExporter
    nb = nbformat.read(src, as_version=4)
    meta = front_matter(nb)
    title = str(meta.get("title") or src.stem)
    nb.metadata["title"] = title
    heading = f"# {title}" + (f"\n\n> {meta['description']}" if meta.get("description") else "")
    nb.cells.insert(0, nbformat.v4.new_markdown_cell(heading))
    for cell in nb.cells:  # a reader sees neither nbdev/Quarto directives nor the code of `echo: false` cells
        if cell.cell_type == "markdown": cell.source = pandoc_links(cell.source)
        if cell.cell_type != "code": continue
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "text/markdown" in data: data["text/markdown"] = pandoc_links(data["text/markdown"])
        lines = cell.source.splitlines()
        if any(l.strip().replace(" ", "") == "#|echo:false" for l in lines): cell.metadata.setdefault("tags", []).append("remove_input")
        cell.source = "\n".join(l for l in lines if not l.lstrip().startswith("#|"))
    from nbconvert.preprocessors import TagRemovePreprocessor
    exporter = HTMLExporter(template_name="lab", exclude_input_prompt=True, exclude_output_prompt=True)  # no In[ ]/Out[0] labels
    if mathjax_js is not None:  # relative to the page, so the site works from any folder and offline
        import os
        exporter.mathjax_url = f"{Path(os.path.relpath(mathjax_js, dst.parent)).as_posix()}?config={MATHJAX_CONFIG}"
    exporter.register_preprocessor(TagRemovePreprocessor(remove_input_tags={"remove_input"}, enabled=True), enabled=True)
    body, _ = exporter.from_notebook_node(nb)
    body = re.sub(r'<script src="https?://[^"]*require[^"]*"></script>', "", body)  # widgets' loader: no page here uses widgets
    body = re.sub(r'href="([^":#]+)\.ipynb(#[^"]*)?"', lambda m: f'href="{m.group(1)}.html{m.group(2) or ""}"', body)
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_text(body, encoding="utf-8")

def render(proc:Path, out:Path)->int:
    notebooks = sorted(p for p in proc.rglob("*.ipynb") if not any(part.startswith(("_", ".")) for part in p.relative_to(proc).parts))
    if not notebooks: print(f"docs: no notebooks under {proc}"); return 1
    failed = []
    out.mkdir(parents=True, exist_ok=True)
    mathjax_js = copy_mathjax(out)
    for nb in notebooks:
        dst = out/nb.relative_to(proc).with_suffix(".html")
        try: render_one(nb, dst, mathjax_js)
        except Exception:
            failed.append(nb.relative_to(proc))
            print(f"docs: FAILED to render {nb.relative_to(proc)}:\n{traceback.format_exc(limit=3)}")
    print(f"docs: rendered {len(notebooks) - len(failed)} of {len(notebooks)} notebooks to {out}")
    return 1 if failed else 0

def visible_text(html_text:str, keep_code:bool=True)->str:
    "What a reader sees of a page: no scripts, styles or tags (and, unless keep_code, no code blocks)."
    import html
    drop = r"<script.*?</script>|<style.*?</style>" + ("" if keep_code else r"|<pre.*?</pre>|<code.*?</code>")
    return html.unescape(re.sub(r"<[^>]+>", " ", re.sub(drop, "", html_text, flags=re.S)))

def leaks(out:Path)->int:
    "Fail when any page shows a reader nbdev/Quarto syntax, or loads a script from the network."
    bad = []
    for page in sorted(out.rglob("*.html")):
        if "_mathjax" in page.parts: continue
        text = page.read_text(encoding="utf-8", errors="replace")
        seen = visible_text(text)
        found = [what for what, pattern in LEAKS.items() if re.search(pattern, seen)]
        found += [f"a script from the network ({src})" for src in re.findall(r'<script[^>]+src="(https?://[^"]+)"', text)]
        bad += [f"{page.relative_to(out)}: shows {what}" for what in found]
    for line in bad: print(f"docs: {line}")
    print(f"docs: leak check of {sum(1 for p in out.rglob('*.html') if '_mathjax' not in p.parts)} pages: {len(bad)} problems")
    return 1 if bad else 0

def check(page:str, dom_file:Path, need_image:bool, need_math:bool=False, need_table:bool=True)->int:
    dom = dom_file.read_text(encoding="utf-8", errors="replace")
    title = re.search(r"<title>(.*?)</title>", dom, re.S)
    found = {"title": bool(title and title.group(1).strip()), "heading": bool(re.search(r"<h1[^>]*>.+?</h1>", dom, re.S))}
    if need_table: found["table"] = "<table" in dom and "<td" in dom
    if need_image: found["image"] = bool(re.search(r'<img[^>]+src="data:image/png;base64,[A-Za-z0-9+/]{200}', dom))
    if need_math:  # MathJax typeset the equations (its output spans are there) and no TeX source is left to read
        prose = visible_text(re.sub(r'<span class="MathJax_Preview".*?</span>', "", dom, flags=re.S), keep_code=False)
        raw = re.findall(r"\$\$.+?\$\$|\$[^$\s][^$]*?\\[a-zA-Z]+[^$]*\$|\\\(.+?\\\)", prose, flags=re.S)
        found["math typeset"] = bool(re.search(r'class="MathJax(_Display|_SVG|_CHTML)?"', dom)) and not raw
        if raw: print(f"docs: {page}: raw TeX left, e.g. {raw[0][:80]!r}")
    missing = [k for k, v in found.items() if not v]
    print(f"docs: {page}: title {title.group(1).strip()!r}" if title else f"docs: {page}: no title",
          "| " + ", ".join(f"{k} {'ok' if v else 'MISSING'}" for k, v in found.items()))
    return 1 if missing else 0

if __name__ == "__main__":
    cmd, *args = sys.argv[1:] or ["help"]
    if cmd == "render" and len(args) == 2: sys.exit(render(Path(args[0]), Path(args[1])))
    if cmd == "leaks" and len(args) == 1: sys.exit(leaks(Path(args[0])))
    if cmd == "check" and 2 <= len(args) <= 5: sys.exit(check(args[0], Path(args[1]), "--image" in args[2:], "--math" in args[2:], "--no-table" not in args[2:]))
    print(__doc__); sys.exit(2)
