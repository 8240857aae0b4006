"""Benchmark: load one (and ten) million POIs from GeoParquet and assign them to H3 cells.

urbanlit (`load_pois_geoparquet`, H3 fast path of `assign_points_to_regions`, cells by h3ronpy) against a straightforward
geopandas spatial join (`gpd.read_parquet` + `gpd.sjoin(points, hexagons, predicate="within")`) on the same
file, in the same run; median of several runs each. Prints a markdown table and writes
`benchmarks/results/poi_assignment.md`.

Usage: python benchmarks/poi_assignment.py [--points 1000000 10000000] [--repeats 3] [--resolution 9]
"""
from __future__ import annotations
import argparse, json, os, platform, statistics, subprocess, tempfile, threading, time
from pathlib import Path
import numpy as np
import pandas as pd
import geopandas as gpd
import sys
sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import command_line, machine_note
import shapely

from urbanlit.core import CRS
from urbanlit.regions import h3_tessellate
from urbanlit.loaders import load_pois_geoparquet

BBOX = (16.90, 51.03, 17.18, 51.21)  # Wroclaw, about 20 x 20 km: a few thousand resolution-9 cells
CATEGORIES = np.array(["amenity=cafe", "amenity=restaurant", "shop=bakery", "leisure=park", "office=company",
                       "tourism=hotel", "amenity=school", "shop=supermarket"])


def make_points(n: int, path: Path, seed: int = 0) -> None:
    "Write `n` random POIs inside BBOX to a GeoParquet file."
    rng = np.random.default_rng(seed)
    lon = rng.uniform(BBOX[0], BBOX[2], n)
    lat = rng.uniform(BBOX[1], BBOX[3], n)
    gdf = gpd.GeoDataFrame({"category": CATEGORIES[rng.integers(0, len(CATEGORIES), n)]},
                           geometry=shapely.points(lon, lat), crs=CRS)
    gdf.to_parquet(path)


def run_urbanlit(path: Path, regions: gpd.GeoDataFrame) -> pd.Series:
    "POI table from urbanlit; returns the region id per POI (NaN outside)."
    pois = load_pois_geoparquet(path, regions, category="category", outside="drop")
    return pois


def run_sjoin(path: Path, regions: gpd.GeoDataFrame) -> pd.Series:
    "Read the file with geopandas and join points within hexagons; returns the region id per point."
    points = gpd.read_parquet(path)
    joined = gpd.sjoin(points, regions[["geometry"]], how="left", predicate="within")
    joined = joined[~joined.index.duplicated(keep="first")]  # a point on a shared edge matches two cells
    return joined["region_id"]



def peak_mb(method: str, path: Path, resolution: int) -> float:
    "Peak resident memory (MB) of one run of `method` in a fresh process, above its resident memory just before the run."
    out = subprocess.run([sys.executable, __file__, "--memory-case", method, str(path), str(resolution)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["extra_mb"]


def _rss_mb() -> float:
    with open("/proc/self/statm") as f: return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def memory_case(method: str, path: str, resolution: int) -> None:
    "Peak resident memory of one run, sampled every 2 ms by a thread, above the resident memory just before it."
    regions = h3_tessellate(BBOX, resolution)
    base, peak, running = _rss_mb(), [0.0], [True]
    def watch():
        while running[0]: peak[0] = max(peak[0], _rss_mb()); time.sleep(0.002)
    watcher = threading.Thread(target=watch); watcher.start()
    try: (run_urbanlit if method == "ours" else run_sjoin)(Path(path), regions)
    finally: running[0] = False; watcher.join()
    print(json.dumps({"extra_mb": max(peak[0], _rss_mb()) - base}))


def stages(path: Path, resolution: int) -> dict:
    "Seconds of the three library calls urbanlit's path cannot avoid: reading the file (pyarrow), decoding its WKB (shapely), H3 cells (h3ronpy)."
    import pyarrow.parquet as pq
    from urbanlit.regions import _cells
    out = {}
    t = time.perf_counter(); table = pq.read_table(path); out["read"] = time.perf_counter() - t
    t = time.perf_counter()
    points = shapely.from_wkb(table.column("geometry").to_numpy(zero_copy_only=False))
    lon, lat = shapely.get_x(points), shapely.get_y(points)
    out["decode"] = time.perf_counter() - t
    t = time.perf_counter(); _cells(lon, lat, resolution); out["cells"] = time.perf_counter() - t
    return out


def one_size(n: int, repeats: int, resolution: int, regions: gpd.GeoDataFrame, tmp: str) -> dict:
    "Interleaved timings, peak memory and agreement of both methods on `n` points."
    path = Path(tmp) / f"pois_{n}.parquet"
    make_points(n, path)
    all_ours, all_base, parts = [], [], []
    for r in range(repeats):  # interleaved (and alternating which goes first), so a change of load hits both alike
        parts.append(stages(path, resolution))  # the library calls alone, in the same round
        for name in (("ours", "base") if r % 2 == 0 else ("base", "ours")):
            t = time.perf_counter()
            if name == "ours": pois = run_urbanlit(path, regions); all_ours.append(time.perf_counter() - t)
            else: base = run_sjoin(path, regions); all_base.append(time.perf_counter() - t)
    # Same answer? urbanlit keeps the POIs inside the cells (in file order); the join gives NaN outside.
    inside = base.notna().to_numpy()
    agree = (pois["region_id"].to_numpy() == base[inside].astype(str).to_numpy()).mean() if inside.sum() == len(pois) else float("nan")
    res = {"n": n, "ours": all_ours, "base": all_base, "inside_ours": len(pois), "inside_base": int(inside.sum()), "agree": agree, "stages": {k: statistics.median(p[k] for p in parts) for k in parts[0]},
           "mem_ours": peak_mb("ours", path, resolution), "mem_base": peak_mb("base", path, resolution)}
    path.unlink()
    return res


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--points", type=int, nargs="+", default=[1_000_000, 10_000_000])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--resolution", type=int, default=9)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "poi_assignment.md"))
    ap.add_argument("--memory-case", nargs=3, help=argparse.SUPPRESS)  # method path resolution (internal)
    args = ap.parse_args(argv)
    if args.memory_case:
        memory_case(args.memory_case[0], args.memory_case[1], int(args.memory_case[2])); return

    regions = h3_tessellate(BBOX, args.resolution)
    with tempfile.TemporaryDirectory() as tmp:
        results = [one_size(n, args.repeats, args.resolution, regions, tmp) for n in args.points]
    lines = [f"# POI assignment: POIs from GeoParquet to {len(regions):,} H3 cells (resolution {args.resolution})", "",
             command_line("poi_assignment.py", argv if argv is not None else sys.argv[1:]), "",
             f"Median of {args.repeats} runs each, same file, same machine ({platform.processor() or platform.machine()}, "
             f"Python {platform.python_version()}, geopandas {gpd.__version__}), runs interleaved. Machine: {machine_note()} (at the end). "
             "Peak memory: one more run of each in a fresh process, its resident memory sampled every 2 ms, peak minus the value just before the run.", "",
             "| POIs | method | median (s) | runs (s) | POIs/s | speed-up vs sjoin | peak memory (MB) |", "|---:|---|---:|---|---:|---:|---:|"]
    for r in results:
        t_ours, t_base = statistics.median(r["ours"]), statistics.median(r["base"])
        for name, t, ts, mem in (("urbanlit `load_pois_geoparquet` (h3ronpy cells)", t_ours, r["ours"], r["mem_ours"]),
                                 ("geopandas `read_parquet` + `sjoin(within)`", t_base, r["base"], r["mem_base"])):
            lines.append(f"| {r['n']:,} | {name} | {t:.2f} | {', '.join(f'{x:.2f}' for x in ts)} | {r['n'] / t:,.0f} | {t_base / t:.1f}x | {mem:,.0f} |")
    lines.append("")
    for r in results:
        lines.append(f"At {r['n']:,} POIs: inside the cells urbanlit {r['inside_ours']:,}, sjoin {r['inside_base']:,}; same cell for {r['agree']:.4%} "
                     "of them (H3 cell edges are geodesic arcs, the polygons straight lines, so points within centimetres of an edge may differ).")
    lines.append("")
    for r in results:
        lines.append(f"Ratio at {r['n']:,} POIs (sjoin time / urbanlit time): **{statistics.median(r['base']) / statistics.median(r['ours']):.1f}**; "
                     f"peak memory urbanlit / sjoin: **{r['mem_ours'] / r['mem_base']:.2f}**")
    lines += ["", "Where urbanlit's time goes (median seconds of each library call alone, in the same rounds): the three calls its path cannot "
              "avoid bound how fast it can be, whatever the code around them does.", "",
              "| POIs | read (pyarrow) | WKB decode (shapely.from_wkb) | H3 cells (h3ronpy) | sum | whole path | sjoin | sjoin / sum (the bound on the speed-up) |",
              "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        st = r["stages"]; total = sum(st.values())
        lines.append(f"| {r['n']:,} | {st['read']:.2f} | {st['decode']:.2f} | {st['cells']:.2f} | {total:.2f} | {statistics.median(r['ours']):.2f} | "
                     f"{statistics.median(r['base']):.2f} | {statistics.median(r['base']) / total:.1f}x |")
    text = "\n".join(lines) + "\n"
    print(text)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)


if __name__ == "__main__":
    main()
