"""The README's plots example runs as written and writes the five figures."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def test_plots_example_runs(tmp_path, monkeypatch, capsys) -> None:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("### Plots: radial, Baujat") :]
    block = re.search(r"```python\n(.*?)```", section, flags=re.S)
    assert block is not None
    monkeypatch.chdir(tmp_path)
    exec(compile(block.group(1), "README.md", "exec"), {})  # noqa: S102 - our own README
    assert "Model fits attempted: 8191" in capsys.readouterr().out
    for name, magic in (("radial.svg", b"<?xml"), ("baujat.pdf", b"%PDF"), ("labbe.png", b"\x89PNG"),
                        ("bubble.svg", b"<?xml"), ("gosh.png", b"\x89PNG")):  # fmt: skip
        assert (tmp_path / name).read_bytes().startswith(magic), name
