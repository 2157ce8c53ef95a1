"""pytest imports test modules by basename (rootdir import mode, no packages): two test files with one
name in different folders make collection fail. Keep every test module's basename unique."""

from collections import Counter
from pathlib import Path


def test_test_module_basenames_are_unique() -> None:
    names = Counter(p.name for p in Path(__file__).parent.rglob("test_*.py"))
    assert [n for n, c in names.items() if c > 1] == []
