"""Fuzzing every reader with hypothesis: mutated copies of valid files (hand-written and real) and
generated files. Whatever the bytes, a reader either yields records or raises InputError."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from fuzzing import mutated, survives
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from samples import BIBTEX, CSV, MEDLINE, PUBMED_XML, RIS

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SEEDS = {"ris": RIS, "medline": MEDLINE, "pubmed-xml": PUBMED_XML, "bibtex": BIBTEX, "csv": CSV}
REAL = {"ris": "wos_test.ris", "bibtex": "test_export.bib", "csv": "test_export.txt"}


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz") / "input"


@pytest.mark.parametrize("fmt", list(SEEDS))
def test_mutated_samples(scratch: Path, fmt: str) -> None:
    @settings(FUZZ, max_examples=80 if fmt == "bibtex" else 150)  # bibtexparser is slow
    @given(data=mutated(SEEDS[fmt].encode("utf-8")))
    def run(data: bytes) -> None:
        survives(scratch, data, fmt)

    run()


@pytest.mark.parametrize("fmt", list(REAL))
def test_mutated_real_exports(scratch: Path, shared_data: Path, fmt: str) -> None:
    seed = (shared_data / "records" / "asysd" / REAL[fmt]).read_bytes()[:6000]

    @settings(FUZZ, max_examples=80)
    @given(data=mutated(seed))
    def run(data: bytes) -> None:
        survives(scratch, data, fmt)

    run()


def test_mutated_xlsx(scratch: Path) -> None:
    import pandas as pd

    buffer = io.BytesIO()
    pd.DataFrame({"Title": ["A", "B"], "Year": [2001, 2002], "DOI": ["10.1000/a", ""]}).to_excel(
        buffer, index=False
    )

    @settings(FUZZ, max_examples=100)
    @given(data=mutated(buffer.getvalue()))
    def run(data: bytes) -> None:
        survives(scratch.with_suffix(".xlsx"), data, "csv")

    run()


@FUZZ
@given(st.binary(max_size=400), st.sampled_from(list(SEEDS)))
def test_random_bytes(data: bytes, fmt: str) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        survives(Path(tmp) / "x", data, fmt)


_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
_fields = st.fixed_dictionaries(
    {"title": _text, "author": _text, "year": st.one_of(_text, st.integers(0, 3000).map(str)), "doi": _text}
)


def _render(fmt: str, records: list[dict[str, str]]) -> str:
    out = []
    for r in records:
        if fmt == "ris":
            out.append(f"TY  - JOUR\nTI  - {r['title']}\nAU  - {r['author']}\nPY  - {r['year']}\n")
            out.append(f"DO  - {r['doi']}\nER  - \n")
        elif fmt == "medline":
            out.append(
                f"PMID- {r['year']}\nTI  - {r['title']}\nFAU - {r['author']}\nLID - {r['doi']} [doi]\n"
            )
        elif fmt == "pubmed-xml":
            out.append(
                f"<PubmedArticle><PMID>{r['year']}</PMID><ArticleTitle>{r['title']}</ArticleTitle></PubmedArticle>"
            )
        elif fmt == "bibtex":
            fields = f"title = {{{r['title']}}},\n author = {{{r['author']}}},\n year = {{{r['year']}}}"
            out.append(f"@article{{k{len(out)},\n {fields}\n}}\n")
        else:
            out.append(",".join(f'"{v}"' for v in r.values()))
    if fmt == "pubmed-xml":
        return "<PubmedArticleSet>" + "".join(out) + "</PubmedArticleSet>"
    if fmt == "csv":
        return "title,author,year,doi\n" + "\n".join(out)
    return "\n".join(out)


@FUZZ
@given(st.sampled_from(list(SEEDS)), st.lists(_fields, min_size=1, max_size=4))
def test_generated_files(fmt: str, records: list[dict[str, str]]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        survives(Path(tmp) / "x", _render(fmt, records).encode("utf-8"), fmt)
