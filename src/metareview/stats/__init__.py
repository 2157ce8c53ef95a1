"""metareview.stats: pure numerics (numpy/scipy only), metafor's vocabulary.

Example::

    >>> from metareview.stats import meta
    >>> res = meta([0.1, 0.3, 0.2], [0.01, 0.02, 0.015], method="REML")
"""

from metareview.stats.batch import ManyResult, meta_many
from metareview.stats.baujat import BaujatResult, baujat
from metareview.stats.bias import (
    BeggResult,
    EggerResult,
    TESResult,
    TrimFillResult,
    begg_test,
    egger_test,
    excess_significance,
    trimfill,
)
from metareview.stats.compare import AnovaResult, FitStats, Prediction, anova, fitstats, predict
from metareview.stats.convert import (
    from_ci,
    from_p,
    sei_to_vi,
    smd_from_f,
    smd_from_p,
    smd_from_t,
    t_from_smd,
    to_ci,
    vi_to_sei,
)
from metareview.stats.cumul import CumulResult, cumul
from metareview.stats.design import design_matrix
from metareview.stats.errors import StatsInputError
from metareview.stats.escalc import MEASURES, EffectSizes, escalc
from metareview.stats.fsn import FsnResult, fsn
from metareview.stats.influence import InfluenceResult, LeaveOneOutResult, influence, leave_one_out
from metareview.stats.meta import meta
from metareview.stats.metareg import SubgroupResult, meta_reg, subgroup
from metareview.stats.missing import OmittedWarning
from metareview.stats.multilevel import MultilevelResult, meta_mv
from metareview.stats.permutest import PermutestResult, permutest
from metareview.stats.petpeese import PetPeeseResult, pet_peese
from metareview.stats.profile_lik import ProfileResult, profile
from metareview.stats.results import MetaRegResult, MetaResult
from metareview.stats.robust import RobustResult, robust
from metareview.stats.selmodel import SelmodelResult, selmodel

__all__ = [
    "MEASURES",
    "EffectSizes",
    "escalc",
    "from_ci",
    "from_p",
    "sei_to_vi",
    "smd_from_f",
    "smd_from_p",
    "smd_from_t",
    "t_from_smd",
    "to_ci",
    "vi_to_sei",
    "ManyResult",
    "MetaRegResult",
    "MetaResult",
    "MultilevelResult",
    "BeggResult",
    "EggerResult",
    "InfluenceResult",
    "LeaveOneOutResult",
    "TESResult",
    "TrimFillResult",
    "begg_test",
    "egger_test",
    "excess_significance",
    "influence",
    "leave_one_out",
    "trimfill",
    "StatsInputError",
    "SubgroupResult",
    "design_matrix",
    "meta",
    "meta_many",
    "meta_mv",
    "meta_reg",
    "fsn",
    "FsnResult",
    "anova",
    "fitstats",
    "predict",
    "AnovaResult",
    "FitStats",
    "Prediction",
    "permutest",
    "PermutestResult",
    "baujat",
    "BaujatResult",
    "cumul",
    "CumulResult",
    "pet_peese",
    "PetPeeseResult",
    "robust",
    "RobustResult",
    "subgroup",
    # issue 13, univariate models (helper statsuni)
    "OmittedWarning",
    "ProfileResult",
    "profile",
    "SelmodelResult",
    "selmodel",
]
