"""Jinja2 rendering (autoescape on) and keyword highlighting as escaped markup."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from metareview.screening.highlight import keyword_spans

templates = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))
templates.env.autoescape = True


def highlight(text: str, include: list[str], exclude: list[str]) -> Markup:
    """``text`` escaped, with the protocol's include/exclude words in <mark class="kw-in|kw-ex">."""
    out, pos = [], 0
    for start, end, kind in keyword_spans(text or "", include, exclude):
        out.append(escape(text[pos:start]))
        cls = "kw-in" if kind == "include" else "kw-ex"
        out.append(Markup(f'<mark class="{cls}">') + escape(text[start:end]) + Markup("</mark>"))
        pos = end
    out.append(escape((text or "")[pos:]))
    return Markup("").join(out)


templates.env.globals["highlight"] = highlight

STAGE_LABELS = {"title_abstract": "Title/abstract", "full_text": "Full text"}


def stage_label(stage: str) -> str:
    """A stage's name for people: "Title/abstract", "Full text"."""
    return STAGE_LABELS.get(stage, stage.replace("_", " ").capitalize())


templates.env.globals["stage_label"] = stage_label


def fixed2(value: float) -> str:
    """A number with two decimals, without the minus sign of a value that rounds to zero (-0.00)."""
    text = f"{value:.2f}"
    return "0.00" if text == "-0.00" else text


templates.env.filters["fixed2"] = fixed2


def render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    ctx = {"account": getattr(request.state, "account", None), **context}
    return templates.TemplateResponse(request, name, ctx, status_code=status)
