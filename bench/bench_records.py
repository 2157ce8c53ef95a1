"""Records benchmark: streaming import of generated PubMed XML and RIS exports, and deduplication
speed and accuracy at 100k records.

Run by hand (it takes minutes; files go to bench/_work/, which git ignores)::

    .venv/bin/python bench/bench_records.py                    # 1,000,000 records per format, dedup at 100k
    .venv/bin/python bench/bench_records.py --n-import 200000  # a smaller import
    .venv/bin/python bench/bench_records.py --dedup-only       # rewrite only the dedup section

Each import runs in a fresh process so its peak memory (max RSS) is its own. The generated records are
realistic in shape (titles from a biomedical vocabulary, authors, journals, volumes, pages, DOIs for most,
PMIDs in PubMed) and a fifth of them are duplicate variants of earlier ones: changed case, punctuation
stripped, truncated title, DOI missing, year off by one, initials instead of forenames. Some near misses
(the same title four years later with other pages: a different report) must not be merged.
Results: bench/results/records.md.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parents[1]
NOTE = (
    "The generated variants (case, punctuation, truncation, missing DOI, year +1, initials and journal "
    "abbreviations) are easier than real exports: the accuracy that matters is the one on ASySD's "
    "hand-labelled real records (tests/records/test_dedup.py: sensitivity 0.9976, specificity 1.0000, "
    "5 uncertain pairs left to review, 360 before one pair per two clusters and the abstract-versus-paper "
    "rules). Throughput was measured while other work kept the 2 cores busy."
)
WORK = ROOT / "bench" / "_work"
RESULTS = ROOT / "bench" / "results" / "records.md"

WORDS = (
    "internet guided self-help depression anxiety stress cognitive behavioural therapy randomised trial "
    "adolescents adults older primary care smartphone app digital intervention mindfulness insomnia panic "
    "social phobia post-traumatic disorder efficacy effectiveness feasibility pilot meta-analysis systematic "
    "review support coach therapist clinician unguided adherence dropout outcomes follow-up months weeks "
    "symptoms severity remission relapse prevention workplace university students veterans perinatal "
    "chronic pain diabetes cancer cardiovascular comorbid mixed methods qualitative cost-effectiveness "
    "implementation routine practice community sample clinical population moderators mediators engagement"
).split()
SURNAMES = (
    "Smith Jones Garcia Chen Wang Kumar Okafor Silva Lindqvist Nakamura Haddad Novak Rossi Dubois "
    "Kowalski Andersen Murphy Cohen Tanaka Ivanova Santos Müller Öztürk Nguyen Papadopoulos"
).split()
JOURNALS = [
    ("Journal of Medical Internet Research", "J Med Internet Res"),
    ("Internet Interventions", "Internet Interv"),
    ("Behaviour Research and Therapy", "Behav Res Ther"),
    ("Journal of Affective Disorders", "J Affect Disord"),
    ("Psychological Medicine", "Psychol Med"),
    ("Depression and Anxiety", "Depress Anxiety"),
    ("BMC Psychiatry", "BMC Psychiatry"),
    ("Cognitive Behaviour Therapy", "Cogn Behav Ther"),
    ("JMIR Mental Health", "JMIR Ment Health"),
]


def make_records(n: int, seed: int = 7) -> list[dict]:
    """n records; about 20% duplicate variants (``dup_of`` = index of the original), 1% near misses."""
    rng = random.Random(seed)
    out: list[dict] = []
    while len(out) < n:
        kind = rng.random()
        if out and kind < 0.20:
            out.append(_variant(rng, out, len(out)))
            continue
        i = len(out)
        title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(7, 16))).capitalize() + f" ({i})"
        journal = rng.choice(JOURNALS)
        first = rng.randint(1, 1500)
        rec = {
            "title": title,
            "authors": [
                f"{rng.choice(SURNAMES)}, {rng.choice('ABCDEFGHJKLMNPRS')}{rng.choice(SURNAMES)[:4]}"
                for _ in range(rng.randint(1, 6))
            ],
            "year": rng.randint(1995, 2024),
            "journal": journal[0],
            "abbrev": journal[1],
            "volume": str(rng.randint(1, 60)),
            "issue": str(rng.randint(1, 12)),
            "pages": f"{first}-{first + rng.randint(3, 20)}",
            "doi": f"10.{rng.randint(1000, 9999)}/x{i}" if rng.random() < 0.8 else "",
            "pmid": str(20000000 + i),
            "abstract": " ".join(rng.choice(WORDS) for _ in range(40)),
            "dup_of": None,
        }
        if kind > 0.99 and out:  # a near miss: same title, another report four years later
            base = out[rng.randrange(len(out))]
            rec.update(title=base["title"], year=base["year"] + 4, pages=f"{first + 2000}-{first + 2010}")
        out.append(rec)
    return out


def _variant(rng: random.Random, out: list[dict], i: int) -> dict:
    j = rng.randrange(len(out))
    while out[j]["dup_of"] is not None:
        j = out[j]["dup_of"]
    rec = dict(out[j], dup_of=j, pmid=str(20000000 + i))  # another database: its own accession number
    change = rng.choice(["case", "punct", "truncate", "nodoi", "year", "initials"])
    if change == "case":
        rec["title"] = rec["title"].upper()
    elif change == "punct":
        rec["title"] = rec["title"].replace(" ", " - ", 2).replace("(", "[").replace(")", "]") + "."
    elif change == "truncate":
        rec["title"] = rec["title"][: max(40, len(rec["title"]) * 2 // 3)]
    elif change == "nodoi":
        rec["doi"] = ""
    elif change == "year":
        rec["year"] += 1
        rec["doi"] = ""
    else:
        rec["authors"] = [a.split(",")[0] + " " + a.split(", ")[1][0] for a in rec["authors"]]
        rec["journal"] = rec["abbrev"]
    rec["pmid"] = ""  # PMIDs only on originals, so variants are found by DOI or fuzzy matching
    return rec


def write_ris(records: list[dict], path: Path) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for r in records:
            fh.write("TY  - JOUR\n")
            fh.write(f"TI  - {r['title']}\n")
            for a in r["authors"]:
                fh.write(f"AU  - {a}\n")
            first, last = r["pages"].split("-")
            fh.write(f"PY  - {r['year']}\nT2  - {r['journal']}\nVL  - {r['volume']}\nIS  - {r['issue']}\n")
            fh.write(f"SP  - {first}\nEP  - {last}\nAB  - {r['abstract']}\n")
            if r["doi"]:
                fh.write(f"DO  - {r['doi']}\n")
            fh.write("ER  - \n\n")


def write_pubmed_xml(records: list[dict], path: Path) -> None:
    with path.open("w", encoding="utf-8") as fh:
        fh.write('<?xml version="1.0" encoding="UTF-8"?>\n<PubmedArticleSet>\n')
        for i, r in enumerate(records):
            names = [(escape(a.split(",")[0]), escape(a.split(", ")[-1])) for a in r["authors"]]
            authors = "".join(
                f"<Author><LastName>{last}</LastName><ForeName>{fore}</ForeName></Author>"
                for last, fore in names
            )
            doi = f'<ELocationID EIdType="doi">{r["doi"]}</ELocationID>' if r["doi"] else ""
            fh.write(
                f"<PubmedArticle><MedlineCitation><PMID>{30000000 + i}</PMID><Article><Journal><JournalIssue>"
                f"<Volume>{r['volume']}</Volume><Issue>{r['issue']}</Issue><PubDate><Year>{r['year']}</Year></PubDate>"
                f"</JournalIssue><Title>{escape(r['journal'])}</Title></Journal><ArticleTitle>{escape(r['title'])}</ArticleTitle>"
                f"<Pagination><MedlinePgn>{r['pages']}</MedlinePgn></Pagination>{doi}<Abstract><AbstractText>"
                f"{escape(r['abstract'])}</AbstractText></Abstract><AuthorList>{authors}</AuthorList></Article>"
                f"</MedlineCitation></PubmedArticle>\n"
            )
        fh.write("</PubmedArticleSet>\n")


def child_import(path: str, review_dir: str) -> None:
    """(In a fresh process) import one file and print seconds, records and peak RSS as JSON."""
    from metareview.records.importer import import_file
    from metareview.review import Review

    review = Review.init(review_dir)
    start = time.perf_counter()
    result = import_file(review, path, "Bench")
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "records": result.added, "peak_mb": _peak_rss_mb()}))


def _peak_rss_mb() -> float:
    """Peak resident memory of this process (VmHWM: unlike ru_maxrss, not inherited over exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_import(path: Path, tag: str) -> dict:
    review_dir = WORK / f"review-{tag}"
    subprocess.run(["rm", "-rf", str(review_dir)], check=True)
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(path), str(review_dir)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_dedup(n: int) -> dict:
    from metareview.records import dedup
    from metareview.records.importer import import_file
    from metareview.review import Review
    from metareview.store import records_repo

    records = make_records(n, seed=11)
    path = WORK / f"dedup_{n}.ris"
    write_ris(records, path)
    review_dir = WORK / f"review-dedup-{n}"
    subprocess.run(["rm", "-rf", str(review_dir)], check=True)
    review = Review.init(review_dir)
    import_file(review, path, "Bench")
    start = time.perf_counter()
    result = dedup.deduplicate(review)
    seconds = time.perf_counter() - start
    with review.session() as s:  # record ids follow file order: id = position + 1
        rows = [(cid, kept, rec.id) for rec, _db, cid, kept in records_repo.iter_records(s)]
    truth = [r["dup_of"] is not None for r in records]
    clusters: dict[int, list[bool]] = defaultdict(list)
    removed = []
    for cid, kept, rid in rows:
        if cid is not None:
            clusters[cid].append(truth[rid - 1])
        removed.append(cid is not None and kept != rid)
    sens_c, spec_c = dedup.accuracy_by_cluster(clusters.values(), truth)
    sens, spec = dedup.accuracy(removed, truth)
    return {
        "records": n,
        "seconds": seconds,
        "result": result.to_dict(),
        "sensitivity": sens,
        "specificity": spec,
        "sensitivity_cluster": sens_c,
        "specificity_cluster": spec_c,
        "true_duplicates": sum(truth),
    }


def dedup_section(dd: dict[str, Any]) -> list[str]:
    """The results file's dedup section (markdown lines) for one :func:`run_dedup` outcome."""
    return [
        "## Deduplication",
        "",
        f"{dd['records']:,} records ({dd['true_duplicates']:,} injected duplicate variants): "
        f"**{dd['seconds']:.1f} s** (target <= 60 s).",
        "",
        f"- clusters {dd['result']['clusters']:,}, duplicates flagged {dd['result']['duplicates']:,}, "
        f"uncertain pairs for review {dd['result']['uncertain_open']:,}",
        f"- sensitivity {dd['sensitivity']:.4f}, specificity {dd['specificity']:.4f} "
        "(per record, the earliest imported record kept)",
        f"- sensitivity {dd['sensitivity_cluster']:.4f}, specificity {dd['specificity_cluster']:.4f} "
        "(per cluster, independent of which member is kept)",
        "",
        NOTE,
        "",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-import", type=int, default=1_000_000)
    parser.add_argument("--n-dedup", type=int, default=100_000)
    parser.add_argument("--dedup-only", action="store_true", help="replace only the dedup section")
    parser.add_argument("--child", nargs=2)
    args = parser.parse_args()
    if args.child:
        child_import(*args.child)
        return
    WORK.mkdir(parents=True, exist_ok=True)
    lines = [
        "# Records benchmark (bench/bench_records.py)",
        "",
        f"Machine: {subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} cores, "
        "shared with other work while it ran; SQLite store in bench/_work/.",
        "",
    ]
    dd = run_dedup(args.n_dedup)
    print(json.dumps(dd, indent=1), flush=True)
    section = dedup_section(dd)
    if args.dedup_only:
        old = RESULTS.read_text(encoding="utf-8")
        start = old.index("## Deduplication")
        end = old.index("\n## ", start) + 1
        RESULTS.write_text(old[:start] + "\n".join(section) + "\n" + old[end:], encoding="utf-8")
        print(f"updated the dedup section of {RESULTS}")
        return
    lines += section
    lines += [
        "## Import (streaming, one transaction per file)",
        "",
        "| format | records | file size | seconds | records/s | peak RSS |",
        "|---|---|---|---|---|---|",
    ]
    for n in sorted({min(50_000, args.n_import), args.n_import}):
        records = make_records(n)
        for fmt, writer, suffix in (("PubMed XML", write_pubmed_xml, "xml"), ("RIS", write_ris, "ris")):
            path = WORK / f"import_{n}.{suffix}"
            writer(records, path)
            res = run_import(path, f"{suffix}-{n}")
            size = path.stat().st_size / 2**20
            print(fmt, n, res, flush=True)
            lines.append(
                f"| {fmt} | {res['records']:,} | {size:,.0f} MiB | {res['seconds']:.1f} | "
                f"{res['records'] / res['seconds']:,.0f} | {res['peak_mb']:.0f} MiB |"
            )
            path.unlink()
            subprocess.run(["rm", "-rf", str(WORK / f"review-{suffix}-{n}")], check=True)
        del records
    lines += [
        "",
        "Peak RSS is that of the importing process alone; the same at 50k and at the full size means "
        "memory does not grow with the file (streaming readers, batched inserts).",
        "",
    ]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
