"""CI: the package as a user installs it.

usage: python .ci/wheel_check.py WORKDIR

Builds the wheel from this checkout, fails if it ships test support (`urbanlit/_testing/`, `tests_data/`), installs it
without dependencies into WORKDIR/site, and then, in a fresh Python started outside the checkout with WORKDIR/site
first on its path and the dev-only requirements (settings.ini `dev_requirements`) made unimportable, imports every
module of the wheel and runs `urbanlit demo --help`. The runtime requirements come from the environment this runs in
(the README's install command put them there); a module that imports test support or a dev-only package fails here.
"""
import configparser, re, subprocess, sys, zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEV_IMPORTS = {"jupyter-server-mathjax": "jupyter_server_mathjax"}  # distribution -> import name, where they differ

def dev_modules()->list[str]:
    cfg = configparser.ConfigParser(); cfg.read(ROOT/"settings.ini")
    names = [re.split(r"[<>=!~\[ ]", r)[0] for r in cfg["DEFAULT"]["dev_requirements"].split()]
    return sorted({DEV_IMPORTS.get(n, n.replace("-", "_")) for n in names})

CHECK = r'''
import importlib, importlib.abc, sys
blocked = set(sys.argv[1].split(","))
class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in blocked: raise ModuleNotFoundError(f"{name} is a dev-only requirement", name=name)
sys.meta_path.insert(0, Blocker())
import urbanlit
assert urbanlit.__file__.startswith(sys.argv[2]), f"urbanlit came from {urbanlit.__file__}, not the wheel"
for module in sys.argv[3].split(","): importlib.import_module(module)
from urbanlit.cli import main
try: main(["demo", "--help"])
except SystemExit as e: assert e.code in (0, None), e.code
print(f"wheel: imported {len(sys.argv[3].split(','))} modules from {sys.argv[2]} with {len(blocked)} dev-only packages blocked; `urbanlit demo --help` ran")
'''

def main(work:Path)->int:
    work.mkdir(parents=True, exist_ok=True)
    wheels = work/"wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels), str(ROOT)], check=True)
    wheel = max(wheels.glob("urbanlit-*.whl"), key=lambda p: p.stat().st_mtime)
    names = zipfile.ZipFile(wheel).namelist()
    shipped = [n for n in names if n.startswith(("urbanlit/_testing", "tests_data")) or "/tests_data/" in n]
    if shipped: print(f"wheel: {wheel.name} ships test support: {shipped[:5]}"); return 1
    site = work/"site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)], check=True)
    modules = sorted(n[:-3].replace("/", ".").removesuffix(".__init__") for n in names if n.startswith("urbanlit/") and n.endswith(".py"))
    env = {"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin", "HOME": str(work), "MPLBACKEND": "Agg", "PYTHONNOUSERSITE": "1"}
    run = subprocess.run([sys.executable, "-c", CHECK, ",".join(dev_modules()), str(site), ",".join(modules)], cwd=work, env=env,
                         capture_output=True, text=True)
    print(run.stdout.strip()[-3000:])
    if run.returncode != 0: print(run.stderr.strip()[-3000:]); return 1
    return 0

if __name__ == "__main__":
    if len(sys.argv) != 2: print(__doc__); sys.exit(2)
    sys.exit(main(Path(sys.argv[1])))
