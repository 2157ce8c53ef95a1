"""Readers under large input (issue 8), run by hand: time and peak memory per reader (RIS, MEDLINE,
BibTeX, CSV) for one record with a single 1 / 10 / 50 MB field (written as continuation lines where
the format has them; a quoted multi-line cell in CSV) and for files of 10k and 100k small records.

Each case runs in a fresh Python process that imports the readers, notes its peak resident memory
(``VmHWM`` of ``/proc/self/status``; ``ru_maxrss`` would start from the parent's size), reads the
file (``read_records``, timed with ``perf_counter``) and notes the peak again: the difference is the
memory the read needed. No tracemalloc (it slows Python code several
times). Linear time shows as a flat time per MB (fields) or per record (files); bounded memory as a
peak that does not grow with the number of records (streaming), and a small multiple of the largest
field.

    PYTHONPATH=src nice -n 10 python bench/bench_readers.py [--sizes 1,10,50] [--records 10000,100000]

Writes bench/results/readers.md (with the load average before and after).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

LINE = "abcdefghijklmnopqrstuvwxyz0123456789 " * 2  # 74 characters
SRC = Path(__file__).resolve().parents[1] / "src"
SUFFIX = {"ris": ".ris", "medline": ".nbib", "bibtex": ".bib", "csv": ".csv"}
_CHILD = """
import json, sys, time
from metareview.errors import InputError
from metareview.records.importer import read_records

def hwm():  # peak resident memory of this process (kB); unlike ru_maxrss, reset by execve
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])

base = hwm()
start = time.perf_counter()
try:
    count, error = sum(1 for _ in read_records(sys.argv[1])), None
except InputError as exc:  # a documented size limit (BibTeX's 16 Mi characters per entry)
    count, error = 0, exc.message
seconds = time.perf_counter() - start
print(json.dumps({"count": count, "error": error, "seconds": seconds, "base_kb": base, "peak_kb": hwm()}))
"""


def _field(megabytes: int, prefix: str) -> str:
    count = megabytes * (1 << 20) // (len(LINE) + len(prefix) + 1)
    return "".join(prefix + LINE + "\n" for _ in range(count))


def big_field(fmt: str, megabytes: int) -> str:
    if fmt == "ris":
        return "TY  - JOUR\nTI  - big\nAB  - start\n" + _field(megabytes, "      ") + "ER  - \n"
    if fmt == "medline":
        return "PMID- 1\nTI  - big\nAB  - start\n" + _field(megabytes, "      ") + "\n"
    if fmt == "bibtex":
        return "@article{a1,\n  title = {big},\n  abstract = {" + _field(megabytes, "  ") + "}\n}\n"
    return 'Title,Abstract\nbig,"' + _field(megabytes, "") + '"\n'


def many(fmt: str, n: int) -> str:
    if fmt == "ris":
        record = "TY  - JOUR\nTI  - Title {}\nAU  - Smith, J\nPY  - 2020\nER  - \n\n"
        return "".join(record.format(i) for i in range(n))
    if fmt == "medline":
        return "".join(
            f"PMID- {i + 1}\nOWN - NLM\nTI  - Title {i}\nAU  - Smith J\nDP  - 2020\nSO  - J. 2020;1:1.\n\n"
            for i in range(n)
        )
    if fmt == "bibtex":
        entry = "@article{{k{0},\n  title = {{Title {0}}},\n  year = {{2020}}\n}}\n\n"
        return "".join(entry.format(i) for i in range(n))
    return "Title,Year,Authors\n" + "".join(f"Title {i},2020,Smith J\n" for i in range(n))


def measure(path: Path) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    out = subprocess.run([sys.executable, "-c", _CHILD, str(path)], env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"reading {path} failed:\n{out.stderr}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3]) if Path("/proc/loadavg").exists() else "?"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1,10,50")
    parser.add_argument("--records", default="10000,100000")
    parser.add_argument("--formats", default="ris,medline,bibtex,csv")
    parser.add_argument("--out", default=str(Path(__file__).with_name("results") / "readers.md"))
    args = parser.parse_args()
    load_before = _load()
    rows = [
        "| reader | input | file MB | records | seconds | s per MB | us per record | peak RSS MB | "
        "read added MB |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in args.formats.split(","):
            cases = [(f"one {mb} MB field", big_field, int(mb)) for mb in args.sizes.split(",")]
            cases += [(f"{int(n):,} records", many, int(n)) for n in args.records.split(",")]
            for label, make, amount in cases:  # each input made just before it is read: small parent
                path = Path(tmp) / f"in{SUFFIX[fmt]}"
                path.write_text(make(fmt, amount), encoding="utf-8")
                size = path.stat().st_size / (1 << 20)
                m = measure(path)
                peak, added = int(m["peak_kb"]) / 1024, (int(m["peak_kb"]) - int(m["base_kb"])) / 1024
                seconds = float(m["seconds"])  # type: ignore[arg-type]
                if m["error"]:
                    rows.append(
                        f"| {fmt} | {label} | {size:.1f} | refused: {str(m['error'])[:50]} | {seconds:.2f} | "
                        f"| | {peak:.0f} | {added:.0f} |"
                    )
                else:
                    count = int(m["count"])  # type: ignore[call-overload]
                    per_record = f"{1e6 * seconds / count:.0f}" if count > 1 else ""
                    rows.append(
                        f"| {fmt} | {label} | {size:.1f} | {count} | {seconds:.2f} | {seconds / size:.3f} | "
                        f"{per_record} | {peak:.0f} | {added:.0f} |"
                    )
                print(rows[-1], flush=True)
    head = [
        "# Readers: time and peak memory (bench/bench_readers.py)",
        "",
        f"Each case in a fresh process: `read_records` timed with `perf_counter`; memory from `VmHWM`"
        f" (peak RSS of the process, and what the read added to the peak after the imports). "
        f"{os.cpu_count()} shared CPUs; load average {load_before} before, {_load()} after.",
        "",
    ]
    out = Path(args.out)
    out.parent.mkdir(exist_ok=True)
    out.write_text("\n".join(head + rows) + "\n")


if __name__ == "__main__":
    main()
