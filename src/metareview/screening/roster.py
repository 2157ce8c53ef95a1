"""Who may screen: the review's roster of reviewers, and the checks on names and free text.

The roster is ``[screening] reviewers = ["Ana Silva", "Ben Okafor"]`` in ``protocol.toml``. Every vote,
resolution, retraction and retrieval event is made by a roster name: :func:`resolve_reviewer` matches a
typed name case- and whitespace-insensitively (``"  ana   SILVA "`` is ``"Ana Silva"``) and returns the
roster's spelling, so one person is always one rater. A review without a roster accepts any name, with
its whitespace normalised (runs of spaces become one, ends trimmed). A team server that keeps its own
accounts passes the account's name; it is checked the same way.

Example::

    from metareview.screening.roster import resolve_reviewer
    resolve_reviewer(review, " ana  silva")     # 'Ana Silva' (or InputError naming the roster)
"""

from __future__ import annotations

from metareview.errors import InputError
from metareview.protocol import Protocol
from metareview.review import Review

MAX_NAME = 200  # characters of a reviewer name (the store's column width)


def normalise_name(name: str) -> str:
    """``name`` with runs of whitespace made one space and the ends trimmed."""
    return " ".join(str(name).split())


def check_text(value: str | None, field: str, max_length: int | None = None) -> str | None:
    """Free text to store (a note, a reason): None when blank; :class:`InputError` for a NUL character
    (PostgreSQL cannot store it) or text longer than ``max_length``."""
    if value is None:
        return None
    text = str(value)
    if "\x00" in text:
        raise InputError(f"the {field} contains a NUL character (U+0000)", field=field)
    text = text.strip()
    if max_length is not None and len(text) > max_length:
        raise InputError(f"the {field} is {len(text)} characters long (at most {max_length})", field=field)
    return text or None


def canonical_reviewer(protocol: Protocol, name: str | None, *, roster: list[str] | None = None,
                       where: str = "[screening] reviewers", option: str = "reviewer") -> str:
    """:func:`resolve_reviewer` on a protocol (the roster is ``protocol.screening.reviewers``, or
    ``roster`` when given: e.g. the extractors, named ``where`` in protocol.toml; ``option`` names the
    field in errors)."""
    if name is None:
        raise InputError(f"a {option} name is required (--{option})", field=option)
    if "\x00" in str(name):
        raise InputError(f"the {option} name contains a NUL character (U+0000)", field=option)
    clean = normalise_name(name)
    if not clean:
        raise InputError(f"a {option} name is required (--{option})", field=option)
    if len(clean) > MAX_NAME:
        raise InputError(f"the {option} name is {len(clean)} characters long (at most {MAX_NAME})",
                         field=option)
    names = list(protocol.screening.reviewers) if roster is None else list(roster)
    if not names:
        return clean
    key = clean.casefold()
    for member in names:
        if normalise_name(member).casefold() == key:
            return normalise_name(member)
    raise InputError(
        f"{clean!r} is not on the review's roster ({where} in protocol.toml: {', '.join(names)})",
        field=option,
    )


def resolve_reviewer(review: Review, name: str | None) -> str:
    """The canonical roster name for ``name`` (matched case- and whitespace-insensitively), or
    :class:`InputError`; without a roster, ``name`` with its whitespace normalised."""
    return canonical_reviewer(review.protocol, name)


def roster(review: Review) -> list[str]:
    """The review's reviewers as declared (empty: any name is accepted)."""
    return [normalise_name(m) for m in review.protocol.screening.reviewers]
