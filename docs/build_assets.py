"""Run the examples and store what they print and draw for the documentation.

Every script in examples/ runs in full mode (SKLEARN_DNN_QUICK unset), one
after the other, from the repository root. What it prints goes to
docs/generated/<script>.txt, which the pages include as it is (through
pymdownx.snippets), and the PNGs it saves under examples/output/ are copied
to docs/generated/. docs/generated/runtimes.md records how long each script
took. A script that fails, or a PNG over MAX_PNG_BYTES, stops the build.

Needs the plot, dask and conformal extras: pip install -e ".[plot,dask,conformal]".
Run: python docs/build_assets.py [script.py ...]   (default: every example)
"""

import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
OUTPUT = EXAMPLES / "output"
GENERATED = ROOT / "docs" / "generated"
# The repository keeps these files: a plot stays small.
MAX_PNG_BYTES = 200_000


def run(script):
    """Run one example; return its stdout and the seconds it took."""
    env = {k: v for k, v in os.environ.items() if k != "SKLEARN_DNN_QUICK"}
    env["MPLBACKEND"] = "Agg"
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(script.relative_to(ROOT))],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"{script.name} failed with exit code {done.returncode}")
    return done.stdout, seconds


def main(names):
    scripts = [EXAMPLES / name for name in names] or sorted(EXAMPLES.glob("*.py"))
    GENERATED.mkdir(exist_ok=True)
    runtimes = GENERATED / "runtimes.md"
    rows = {}
    if runtimes.exists():  # keep the rows of the scripts not run this time
        for line in runtimes.read_text().splitlines()[2:]:
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            if len(cells) == 2:
                rows[cells[0]] = cells[1]
    for script in scripts:
        before = {p: p.stat().st_mtime for p in OUTPUT.glob("*.png")} if OUTPUT.exists() else {}
        print(f"running {script.name} ...", flush=True)
        stdout, seconds = run(script)
        (GENERATED / f"{script.stem}.txt").write_text(stdout)
        rows[f"`examples/{script.name}`"] = f"{seconds:.0f} s"
        print(f"  {seconds:.1f} s", flush=True)
        for png in sorted(OUTPUT.glob("*.png")):
            if before.get(png) == png.stat().st_mtime:
                continue  # drawn by another script
            size = png.stat().st_size
            if size > MAX_PNG_BYTES:
                raise SystemExit(f"{png.name} is {size:,} bytes, over {MAX_PNG_BYTES:,}")
            shutil.copy2(png, GENERATED / png.name)
            print(f"  copied {png.name} ({size / 1000:.0f} kB)", flush=True)
    machine = f"{os.cpu_count()} CPU cores, {platform.system()}, Python {platform.python_version()}"
    lines = ["| script | wall-clock time |", "|---|---|"]
    lines += [f"| {name} | {time_} |" for name, time_ in sorted(rows.items())]
    lines += ["", f"Measured by `docs/build_assets.py` on {machine}."]
    runtimes.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
