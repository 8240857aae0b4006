"""Render the notebooks processed by `nbdev_proc_nbs` (in _proc/) to standalone HTML pages, without Quarto.

usage: python .ci/render_docs.py render PROC_DIR OUT_DIR   -> one OUT_DIR/<path>.html per notebook; exit 1 if any fails
       python .ci/render_docs.py check PAGE.html DOM.html [--image]
                                                           -> check a page's rendered DOM (from `chromium --dump-dom`)
                                                              has a title, a table and, with --image, an image

The committed notebooks carry their outputs, so nothing is executed here. Quarto would turn the front matter
that nbdev_proc_nbs writes (a raw cell `---\ntitle: ...\n---`) into the page's heading; nbconvert drops raw cells,
so the title and summary are put back as a heading, and links between notebooks (`x.ipynb`) point at the pages.
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

def render_one(src:Path, dst:Path):
    import nbformat
    from nbconvert import HTMLExporter
    nb = nbformat.read(src, as_version=4)
    meta = front_matter(nb)
    title = str(meta.get("title") or src.stem)
    nb.metadata["title"] = title
    heading = f"# {title}" + (f"\n\n> {meta['description']}" if meta.get("description") else "")
    nb.cells.insert(0, nbformat.v4.new_markdown_cell(heading))
    for cell in nb.cells:  # a reader sees neither nbdev/Quarto directives nor the code of `echo: false` cells
        if cell.cell_type != "code": continue
        lines = cell.source.splitlines()
        if any(l.strip().replace(" ", "") == "#|echo:false" for l in lines): cell.metadata.setdefault("tags", []).append("remove_input")
        cell.source = "\n".join(l for l in lines if not l.lstrip().startswith("#|"))
    from nbconvert.preprocessors import TagRemovePreprocessor
    exporter = HTMLExporter(template_name="lab")
    exporter.register_preprocessor(TagRemovePreprocessor(remove_input_tags={"remove_input"}, enabled=True), enabled=True)
    body, _ = exporter.from_notebook_node(nb)
    body = re.sub(r'href="([^":#]+)\.ipynb(#[^"]*)?"', lambda m: f'href="{m.group(1)}.html{m.group(2) or ""}"', body)
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_text(body, encoding="utf-8")

def render(proc:Path, out:Path)->int:
    notebooks = sorted(p for p in proc.rglob("*.ipynb") if not any(part.startswith(("_", ".")) for part in p.relative_to(proc).parts))
    if not notebooks: print(f"docs: no notebooks under {proc}"); return 1
    failed = []
    for nb in notebooks:
        dst = out/nb.relative_to(proc).with_suffix(".html")
        try: render_one(nb, dst)
        except Exception:
            failed.append(nb.relative_to(proc))
            print(f"docs: FAILED to render {nb.relative_to(proc)}:\n{traceback.format_exc(limit=3)}")
    print(f"docs: rendered {len(notebooks) - len(failed)} of {len(notebooks)} notebooks to {out}")
    return 1 if failed else 0

def check(page:str, dom_file:Path, need_image:bool)->int:
    dom = dom_file.read_text(encoding="utf-8", errors="replace")
    title = re.search(r"<title>(.*?)</title>", dom, re.S)
    found = {"title": bool(title and title.group(1).strip()), "heading": bool(re.search(r"<h1[^>]*>.+?</h1>", dom, re.S)),
             "table": "<table" in dom and "<td" in dom}
    if need_image: found["image"] = bool(re.search(r'<img[^>]+src="data:image/png;base64,[A-Za-z0-9+/]{200}', dom))
    missing = [k for k, v in found.items() if not v]
    print(f"docs: {page}: title {title.group(1).strip()!r}" if title else f"docs: {page}: no title",
          "| " + ", ".join(f"{k} {'ok' if v else 'MISSING'}" for k, v in found.items()))
    return 1 if missing else 0

if __name__ == "__main__":
    cmd, *args = sys.argv[1:] or ["help"]
    if cmd == "render" and len(args) == 2: sys.exit(render(Path(args[0]), Path(args[1])))
    if cmd == "check" and len(args) in (2, 3): sys.exit(check(args[0], Path(args[1]), "--image" in args[2:]))
    print(__doc__); sys.exit(2)
