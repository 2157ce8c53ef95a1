"""Readers under large input (issue 8), run by hand: time and peak traced memory per reader for one
record with a single 1 / 10 / 50 MB field (written as continuation lines where the format has them)
and for a file of 100k small records. Linear time shows as time roughly proportional to size; bounded
memory as a peak of a small multiple of the largest field (streaming readers) at 100k records.

    PYTHONPATH=src python bench/bench_readers.py [--sizes 1,10,50] [--records 100000]

Writes bench/results/readers.md.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import tracemalloc
from pathlib import Path

from metareview.errors import InputError
from metareview.records.importer import read_records

LINE = "abcdefghijklmnopqrstuvwxyz0123456789 " * 2  # 74 characters


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
        return "".join(f"PMID- {i + 1}\nTI  - Title {i}\nAU  - Smith J\nDP  - 2020\n\n" for i in range(n))
    if fmt == "bibtex":
        entry = "@article{{k{0},\n  title = {{Title {0}}},\n  year = {{2020}}\n}}\n\n"
        return "".join(entry.format(i) for i in range(n))
    return "Title,Year,Authors\n" + "".join(f"Title {i},2020,Smith J\n" for i in range(n))


def measure(path: Path) -> tuple[float, float, int]:
    tracemalloc.start()
    start = time.perf_counter()
    count = sum(1 for _ in read_records(path))
    elapsed = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] / (1 << 20)
    tracemalloc.stop()
    return elapsed, peak, count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1,10,50")
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--formats", default="ris,medline,bibtex,csv")
    parser.add_argument("--out", default=str(Path(__file__).with_name("results") / "readers.md"))
    args = parser.parse_args()
    rows = ["| reader | input | file MB | records | seconds | peak traced MB |", "|---|---|---|---|---|---|"]
    suffix = {"ris": ".ris", "medline": ".nbib", "bibtex": ".bib", "csv": ".csv"}
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in args.formats.split(","):
            cases = [(f"one {mb} MB field", big_field(fmt, int(mb))) for mb in args.sizes.split(",")]
            cases.append((f"{args.records} records", many(fmt, args.records)))
            for label, text in cases:
                path = Path(tmp) / f"in{suffix[fmt]}"
                path.write_text(text, encoding="utf-8")
                size = path.stat().st_size / (1 << 20)
                try:
                    seconds, peak, count = measure(path)
                except InputError as exc:  # a documented size limit (e.g. BibTeX's 16 Mi per entry)
                    tracemalloc.stop()
                    rows.append(f"| {fmt} | {label} | {size:.1f} | refused | {exc.message[:60]} | |")
                    print(rows[-1], flush=True)
                    continue
                rows.append(f"| {fmt} | {label} | {size:.1f} | {count} | {seconds:.2f} | {peak:.0f} |")
                print(rows[-1], flush=True)
    out = Path(args.out)
    out.parent.mkdir(exist_ok=True)
    out.write_text("# Readers: time and peak memory (bench/bench_readers.py)\n\n" + "\n".join(rows) + "\n")


if __name__ == "__main__":
    main()
