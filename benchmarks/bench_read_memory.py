"""Readers stream: peak memory reading a file vs a 10x larger file.

    NERXL_DATA_DIR=../shared/data python benchmarks/bench_read_memory.py

Builds, in a temporary folder (never inside the repo), a CoNLL file from CoNLL-2003 English train
plus Europarl-NER English, and the same content repeated 10 times; writes both also as parquet.
Each measurement runs in a fresh Python process that imports the readers, then consumes the
reader to the end counting sentences. Reported per run: peak RSS of the process (VmHWM), its
growth over the RSS after imports, and the peak of Python allocations while reading
(tracemalloc, a separate run). As a control, the same is measured for `list(read_conll(...))`,
which holds every sentence: that one must grow with the file, showing the measurement can tell.

Writes benchmarks/results/read_memory.md (machine and date included).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

REPEAT = 10
RESULTS = Path(__file__).parent / "results" / "read_memory.md"

CHILD = r"""
import json, sys, time, tracemalloc
from nerxl_data.corpora import read_conll, read_parquet

def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024

reader, path, mode = sys.argv[1], sys.argv[2], sys.argv[3]
read = read_conll if reader == "conll" else read_parquet
before = hwm()
if mode == "tracemalloc":
    tracemalloc.start()
t = time.perf_counter()
if mode == "list":
    records = list(read(path))
    n = len(records)
else:
    n = sum(1 for _ in read(path))
seconds = time.perf_counter() - t
traced = tracemalloc.get_traced_memory()[1] / 2**20 if mode == "tracemalloc" else None
print(json.dumps({"sentences": n, "rss_before": before, "rss_peak": hwm(), "traced_peak": traced,
                  "seconds": seconds}))
"""


def measure(reader: str, path: Path, mode: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, reader, str(path), mode],
        check=True, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def build_inputs(data_dir: Path, tmp: Path) -> dict[str, Path]:
    from nerxl_data.corpora import read_conll, write_parquet

    base = (data_dir / "conll" / "en" / "train.tsv").read_text(encoding="utf-8")
    base += "\n" + (data_dir / "europarl-ner" / "en.conll").read_text(encoding="utf-8")
    files = {}
    for name, times in (("1x", 1), (f"{REPEAT}x", REPEAT)):
        conll = tmp / f"{name}.conll"
        with open(conll, "w", encoding="utf-8") as f:
            for _ in range(times):
                f.write(base + "\n\n")
        files[f"conll-{name}"] = conll
        parquet = tmp / f"{name}.parquet"
        write_parquet(read_conll(conll), parquet, row_group_size=1000)
        files[f"parquet-{name}"] = parquet
    return files


def main() -> int:
    data_dir = os.environ.get("NERXL_DATA_DIR")
    if not data_dir:
        print("set NERXL_DATA_DIR (e.g. ../shared/data)", file=sys.stderr)
        return 2
    rows = []
    with tempfile.TemporaryDirectory(prefix="nerxl-readmem-") as tmp:
        files = build_inputs(Path(data_dir), Path(tmp))
        for reader in ("conll", "parquet"):
            for mode in ("stream", "list") if reader == "conll" else ("stream",):
                small, big = files[f"{reader}-1x"], files[f"{reader}-{REPEAT}x"]
                r1, r10 = measure(reader, small, mode), measure(reader, big, mode)
                t1 = measure(reader, small, "tracemalloc") if mode == "stream" else None
                t10 = measure(reader, big, "tracemalloc") if mode == "stream" else None
                sizes = (small.stat().st_size / 2**20, big.stat().st_size / 2**20)
                rows.append((reader, mode, sizes, r1, r10, t1, t10))
                print(reader, mode, r1, r10, t1, t10, flush=True)

    lines = [
        "# Reader memory: 1x vs 10x file",
        "",
        f"- date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M UTC}",
        f"- machine: {platform.node()} ({platform.machine()}, {os.cpu_count()} CPUs, shared), "
        f"Python {platform.python_version()}, {platform.platform()}",
        "- command: `NERXL_DATA_DIR=../shared/data python benchmarks/bench_read_memory.py`",
        "- input: CoNLL-2003 en train + Europarl-NER en (1x), the same repeated 10 times (10x); "
        "parquet written from them in row groups of 1000",
        "- each cell: a fresh process; RSS peak = VmHWM, growth = peak minus RSS after imports; "
        "traced = tracemalloc peak while reading (separate run)",
        "",
        "| reader | mode | file MiB 1x / 10x | sentences 1x / 10x | RSS peak MiB 1x / 10x | peak ratio | RSS growth MiB 1x / 10x | traced MiB 1x / 10x | s 1x / 10x |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    verdicts = []
    for reader, mode, sizes, r1, r10, t1, t10 in rows:
        ratio = r10["rss_peak"] / r1["rss_peak"]
        g1, g10 = r1["rss_peak"] - r1["rss_before"], r10["rss_peak"] - r10["rss_before"]
        traced = f"{t1['traced_peak']:.1f} / {t10['traced_peak']:.1f}" if t1 else "-"
        lines.append(
            f"| {reader} | {mode} | {sizes[0]:.1f} / {sizes[1]:.1f} | {r1['sentences']} / {r10['sentences']} | "
            f"{r1['rss_peak']:.0f} / {r10['rss_peak']:.0f} | {ratio:.2f} | {g1:.0f} / {g10:.0f} | "
            f"{traced} | {r1['seconds']:.1f} / {r10['seconds']:.1f} |"
        )
        if mode == "stream":
            verdicts.append(f"{reader} streaming: peak RSS ratio {ratio:.2f} "
                            f"({'within' if ratio <= 1.5 else 'OVER'} the 1.5x bound)")
        else:
            verdicts.append(f"control `list(read_conll(...))`: ratio {ratio:.2f} (holding every "
                            "sentence grows with the file, as it should)")
    lines += ["", *[f"- {v}" for v in verdicts], ""]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines), encoding="utf-8")
    print(RESULTS.read_text())
    return 0


if __name__ == "__main__":
    t0 = time.time()
    code = main()
    print(f"took {time.time() - t0:.0f} s", file=sys.stderr)
    sys.exit(code)
