"""metareview.extraction: typed extraction forms, AMSTAR 2, derived direction, CSV/XLSX templates.

    >>> from metareview.extraction import EffectSizeRecord, appraise, derive_direction  # doctest: +SKIP
"""

from metareview.extraction.amstar2 import Amstar2Appraisal, appraise
from metareview.extraction.direction import Direction, derive_direction, null_value
from metareview.extraction.forms import EffectSizeRecord, MetaAnalysisReport, PrimaryStudy, PrimaryStudyList
from metareview.extraction.templates import ExtractionBundle, import_forms, write_templates

__all__ = [
    "Amstar2Appraisal", "Direction", "EffectSizeRecord", "ExtractionBundle", "MetaAnalysisReport",
    "PrimaryStudy", "PrimaryStudyList", "appraise", "derive_direction", "import_forms", "null_value",
    "write_templates",
]
