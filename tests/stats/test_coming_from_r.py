"""docs/coming-from-r.md: generated from docs/coming-from-r.toml, and every call it names exists.

Regenerate the page with ``python tests/stats/test_coming_from_r.py``.
"""

from __future__ import annotations

import importlib
import inspect
import re
import sys
import tomllib
from pathlib import Path

import metareview.stats as mrs

DOCS = Path(__file__).resolve().parents[2] / "docs"
TABLE = DOCS / "coming-from-r.toml"
PAGE = DOCS / "coming-from-r.md"


def rows() -> list[dict[str, str]]:
    return list(tomllib.loads(TABLE.read_text(encoding="utf-8"))["row"])


def render() -> str:
    lines = [
        "# Coming from R",
        "",
        "metafor / clubSandwich calls and their `metareview.stats` counterparts (also importable from the",
        "top-level `metareview` namespace). metareview takes arrays (or mappings of moderator columns), not",
        "formulas and data frames. metaumbrella calls map to `metareview.synthesis` (module named in the",
        "row). Generated from `docs/coming-from-r.toml`; do not edit by hand.",
        "",
        "| R | metareview |",
        "|---|---|",
    ]
    for row in rows():
        where = f" ({row['module']})" if "module" in row else ""
        lines.append(f"| `{row['r']}` | `{row['python']}`{where} |")
    return "\n".join(lines) + "\n"


def test_every_listed_call_exists_and_is_callable() -> None:
    for row in rows():
        # rows with a "module" (metaumbrella's calls: metareview.synthesis.*) name a callable there
        module = importlib.import_module(row["module"]) if "module" in row else mrs
        target = getattr(module, row["call"], None)
        assert callable(target), f"{row['call']} (for {row['r']}) is not in {module.__name__}"
        assert "module" in row or row["call"] in mrs.__all__
        assert row["python"].startswith(row["call"] + "("), row
        params = inspect.signature(target).parameters
        call = row["python"].split("#")[0]
        for keyword in re.findall(r"[(,]\s*([A-Za-z_]\w*)=", call):
            assert keyword in params, f"{row['call']} has no keyword {keyword!r} ({row['python']})"


def test_page_is_current() -> None:
    assert PAGE.read_text(encoding="utf-8") == render(), "run: python tests/stats/test_coming_from_r.py"


if __name__ == "__main__":
    PAGE.write_text(render(), encoding="utf-8")
    sys.stdout.write(f"wrote {PAGE}\n")
