"""Run by the ``asreview`` virtual environment (.venv-asreview), not by pytest: ASReview's own API on
one side of the round trip.

    python asreview_api.py read PROJECT.asreview    -> JSON {records, labels} on stdout
    python asreview_api.py make OUT.asreview < SPEC  -> a project made by ASReview's API

SPEC is JSON ``{"records": [{title, abstract, authors, year, doi}], "labels": [[row, 0/1, note]]}``
(labels in labelling order, ``row`` the position in ``records``).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path


def read(path: str) -> dict[str, object]:
    from asreview import Project

    with tempfile.TemporaryDirectory() as tmp:
        project = Project.load(path, tmp)
        try:
            records = project.db.input.get_df()
            results = project.db.get_results_table(columns=["record_id", "label", "note", "time"])
            results = results.sort_values("time", kind="stable")
            out = {
                "version": project.config["project_file_version"],
                "records": [
                    {"record_id": int(r.record_id), "title": r.title, "doi": r.doi}
                    for r in records.itertuples()
                ],
                "labels": [
                    [int(r.record_id), int(r.label), None if r.note is None else str(r.note)]
                    for r in results.itertuples()
                ],
            }
        finally:
            project.close()
    return out


def make(out: str, spec: dict[str, list]) -> None:
    import pandas as pd
    from asreview import Project

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "screening.csv"
        frame = pd.DataFrame(spec["records"])
        frame["authors"] = frame["authors"].map("; ".join)
        frame.to_csv(data, index=False)
        project = Project.create(Path(tmp) / "proj", project_id="proj")
        try:
            project.add_dataset(data)
            with project.db as db:
                for row, label, note in spec["labels"]:
                    db.label_record(int(row), int(label), user_id=None)
                    if note:
                        db.update_note(int(row), note)
                    time.sleep(0.002)
            project.export(out)
        finally:
            project.close()


if __name__ == "__main__":
    if sys.argv[1] == "read":
        json.dump(read(sys.argv[2]), sys.stdout)
    else:
        make(sys.argv[2], json.load(sys.stdin))
