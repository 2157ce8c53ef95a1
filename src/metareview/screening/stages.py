"""Screening stages, decision values and the protocol's rules for exclusion reasons.

Stages: ``title_abstract`` then ``full_text``. Decisions: ``include``, ``exclude``, ``maybe``. An exclusion
at full text needs a reason; where the protocol lists reasons for a stage, a reason must be one of them.
Example::

    from metareview.screening.stages import check_reason
    check_reason(protocol, "full_text", "exclude", "not a quantitative meta-analysis")
"""

from __future__ import annotations

from metareview.errors import InputError
from metareview.protocol import Protocol

TITLE_ABSTRACT = "title_abstract"
FULL_TEXT = "full_text"
STAGES = (TITLE_ABSTRACT, FULL_TEXT)

INCLUDE, EXCLUDE, MAYBE = "include", "exclude", "maybe"
DECISIONS = (INCLUDE, EXCLUDE, MAYBE)

RESOLUTION_METHODS = ("third_reviewer", "consensus")


def check_stage(stage: str, protocol: Protocol | None = None) -> str:
    """``stage`` if it is a known stage (and one the protocol uses); else :class:`InputError`."""
    used = list(protocol.screening.stages) if protocol is not None else list(STAGES)
    if stage not in used:
        raise InputError(f"unknown stage {stage!r}; this review uses {', '.join(used)}", field="stage")
    return stage


def check_decision(decision: str, allow_maybe: bool = True) -> str:
    """The normalised decision (lower case) if valid; else :class:`InputError`."""
    value = decision.strip().lower()
    allowed = DECISIONS if allow_maybe else (INCLUDE, EXCLUDE)
    if value not in allowed:
        raise InputError(f"decision must be one of {', '.join(allowed)}, not {decision!r}", field="decision")
    return value


def check_reason(protocol: Protocol, stage: str, decision: str, reason: str | None) -> str | None:
    """The exclusion reason to store: required for a full-text exclusion, one of the protocol's list
    for the stage where it has one; ``None`` for a decision other than exclude."""
    text = (reason or "").strip() or None
    if decision != EXCLUDE:
        if text is not None:
            raise InputError("a reason is only recorded with an exclusion", field="reason")
        return None
    if text is None:
        if stage == FULL_TEXT:
            raise InputError("an exclusion at full text needs a reason from the protocol", field="reason")
        return None
    allowed = list(getattr(protocol.exclusion_reasons, stage))
    if allowed and text not in allowed:
        raise InputError(
            f"reason {text!r} is not in the protocol's {stage} exclusion reasons: {'; '.join(allowed)}",
            field="reason",
        )
    return text
