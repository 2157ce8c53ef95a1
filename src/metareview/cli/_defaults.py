"""Constants the CLI needs to *declare* its options (defaults, help texts), kept here so that building
the command tree imports no heavy module. ``tests/cli/test_defaults.py`` checks that each one equals the
value defined by the module that owns it."""

from __future__ import annotations

# metareview.records.detect.FORMATS (plus the interop formats read by ``metareview import``)
RECORD_FORMATS = (
    "auto", "ris", "medline", "pubmed-xml", "bibtex", "csv", "endnote-xml", "ovid", "wos", "cochrane",
    "covidence",
)
# metareview.records.export.EXPORT_FORMATS
EXPORT_FORMATS = ("csv", "ris", "xlsx")
# metareview.records.dedup.DEFAULT_THRESHOLD
DEDUP_THRESHOLD = 0.95
# metareview.screening.models.DEFAULT_MODEL
DEFAULT_MODEL = "tfidf-fused-svm"
# metareview.screening.stages.TITLE_ABSTRACT
TITLE_ABSTRACT = "title_abstract"
