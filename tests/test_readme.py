"""The README's first Python example runs as written (it is the first thing a new user copies)."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_first_python_example_runs(capsys) -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    namespace: dict[str, object] = {}
    exec(compile(blocks[0], "README.md", "exec"), namespace)  # noqa: S102 - our own README
    printed = capsys.readouterr().out
    assert "Random-Effects Model (k = 3" in printed
    res = namespace["res"]
    assert res.k == 3 and res.method == "REML" and res.test == "knha"  # type: ignore[attr-defined]
