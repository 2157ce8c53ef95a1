"""metareview.stats: pure numerics (numpy/scipy only), metafor's vocabulary.

Example::

    >>> from metareview.stats import meta
    >>> res = meta([0.1, 0.3, 0.2], [0.01, 0.02, 0.015], method="REML")
"""

import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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
    from metareview.stats.robu import RobuResult, SensitivityResult, robu, robu_sensitivity
    from metareview.stats.robust import RobustResult, robust
    from metareview.stats.selmodel import SelmodelResult, selmodel
    from metareview.stats.vcalc import vcalc

# public name -> the module that defines it: imported on first use (PEP 562), so that
# ``from metareview.stats import meta_many`` loads the batch fitter without scipy.stats and the rest
_LAZY: dict[str, str] = {
    "ManyResult": "metareview.stats.batch",
    "meta_many": "metareview.stats.batch",
    "BaujatResult": "metareview.stats.baujat",
    "baujat": "metareview.stats.baujat",
    "BeggResult": "metareview.stats.bias",
    "EggerResult": "metareview.stats.bias",
    "TESResult": "metareview.stats.bias",
    "TrimFillResult": "metareview.stats.bias",
    "begg_test": "metareview.stats.bias",
    "egger_test": "metareview.stats.bias",
    "excess_significance": "metareview.stats.bias",
    "trimfill": "metareview.stats.bias",
    "AnovaResult": "metareview.stats.compare",
    "FitStats": "metareview.stats.compare",
    "Prediction": "metareview.stats.compare",
    "anova": "metareview.stats.compare",
    "fitstats": "metareview.stats.compare",
    "predict": "metareview.stats.compare",
    "from_ci": "metareview.stats.convert",
    "from_p": "metareview.stats.convert",
    "sei_to_vi": "metareview.stats.convert",
    "smd_from_f": "metareview.stats.convert",
    "smd_from_p": "metareview.stats.convert",
    "smd_from_t": "metareview.stats.convert",
    "t_from_smd": "metareview.stats.convert",
    "to_ci": "metareview.stats.convert",
    "vi_to_sei": "metareview.stats.convert",
    "CumulResult": "metareview.stats.cumul",
    "cumul": "metareview.stats.cumul",
    "design_matrix": "metareview.stats.design",
    "StatsInputError": "metareview.stats.errors",
    "MEASURES": "metareview.stats.escalc",
    "EffectSizes": "metareview.stats.escalc",
    "escalc": "metareview.stats.escalc",
    "FsnResult": "metareview.stats.fsn",
    "fsn": "metareview.stats.fsn",
    "InfluenceResult": "metareview.stats.influence",
    "LeaveOneOutResult": "metareview.stats.influence",
    "influence": "metareview.stats.influence",
    "leave_one_out": "metareview.stats.influence",
    "meta": "metareview.stats.meta",
    "SubgroupResult": "metareview.stats.metareg",
    "meta_reg": "metareview.stats.metareg",
    "subgroup": "metareview.stats.metareg",
    "OmittedWarning": "metareview.stats.missing",
    "MultilevelResult": "metareview.stats.multilevel",
    "meta_mv": "metareview.stats.multilevel",
    "PermutestResult": "metareview.stats.permutest",
    "permutest": "metareview.stats.permutest",
    "PetPeeseResult": "metareview.stats.petpeese",
    "pet_peese": "metareview.stats.petpeese",
    "ProfileResult": "metareview.stats.profile_lik",
    "profile": "metareview.stats.profile_lik",
    "MetaRegResult": "metareview.stats.results",
    "MetaResult": "metareview.stats.results",
    "RobuResult": "metareview.stats.robu",
    "SensitivityResult": "metareview.stats.robu",
    "robu": "metareview.stats.robu",
    "robu_sensitivity": "metareview.stats.robu",
    "RobustResult": "metareview.stats.robust",
    "robust": "metareview.stats.robust",
    "SelmodelResult": "metareview.stats.selmodel",
    "selmodel": "metareview.stats.selmodel",
    "vcalc": "metareview.stats.vcalc",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'metareview.stats' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


class _Package(types.ModuleType):
    """Importing a submodule binds it on its package (``metareview.stats.meta``, the module); the
    public name of the same spelling is the function (``meta``), as it was when this package imported
    every submodule eagerly: keep the function."""

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and name in _LAZY and value.__name__ == f"{__name__}.{name}":
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


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
    "vcalc",
    "robu",
    "robu_sensitivity",
    "RobuResult",
    "SensitivityResult",
    "OmittedWarning",
    "ProfileResult",
    "profile",
    "SelmodelResult",
    "selmodel",
]
