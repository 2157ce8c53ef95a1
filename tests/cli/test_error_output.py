"""A project error reaches the user as one line on stderr with exit code 2, however long the message."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_error_is_one_line_even_when_long(tmp_path: Path) -> None:
    deep = tmp_path / ("a_rather_long_folder_name_" * 4)
    deep.mkdir()
    f = deep / "effects.csv"
    f.write_text("yi,vi\n0.1,0.01\n0.2,-0.5\n")
    exe = Path(sys.executable).with_name("metareview")
    cmd = [str(exe), "meta", str(f), "--yi", "yi", "--vi", "vi"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 2
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert str(f) in lines[0] and "vi" in lines[0]
