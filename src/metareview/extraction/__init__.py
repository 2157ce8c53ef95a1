"""metareview.extraction: typed extraction forms (fields declared in the protocol), AMSTAR 2, derived
direction, CSV/XLSX templates, the forms as JSON.

    >>> from metareview.extraction import EffectSizeRecord, appraise, derive_direction  # doctest: +SKIP
"""

from metareview.extraction.amstar2 import Amstar2Appraisal, appraise
from metareview.extraction.direction import Direction, derive_direction, null_value
from metareview.extraction.forms import EffectSizeRecord, MetaAnalysisReport, PrimaryStudy, PrimaryStudyList
from metareview.extraction.schema import (
    bundle_from_dict,
    effect_size_from_dict,
    form_schema,
    report_from_dict,
)
from metareview.extraction.templates import ExtractionBundle, import_forms, write_templates

__all__ = [
    "Amstar2Appraisal", "Direction", "EffectSizeRecord", "ExtractionBundle", "MetaAnalysisReport",
    "PrimaryStudy", "PrimaryStudyList", "appraise", "bundle_from_dict", "derive_direction",
    "effect_size_from_dict", "form_schema", "import_forms", "null_value", "report_from_dict",
    "write_templates",
]
