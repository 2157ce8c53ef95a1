"""Walk the app's route table: every (method, path) with its path parameters filled in."""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

PUBLIC = {("GET", "/signin"), ("POST", "/signin"), ("GET", "/invite/{secret}"), ("POST", "/invite/{secret}")}


def _walk(routes: list[Any], prefix: str) -> list[tuple[str, str]]:
    out = []
    for r in routes:
        if isinstance(r, APIRoute):
            for m in sorted(r.methods - {"HEAD"}):
                out.append((m, prefix + r.path))
        elif hasattr(r, "original_router"):  # FastAPI's included router (newer versions)
            out += _walk(r.original_router.routes, prefix + r.include_context.prefix)
        elif hasattr(r, "routes") and not hasattr(r, "app"):
            out += _walk(r.routes, prefix)
    return out


def all_routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every (method, path) of the app's route table (static files aside)."""
    return sorted(set(_walk(app.routes, "")))


def fill(path: str, **values: object) -> str:
    def one(m: re.Match[str]) -> str:
        name = m.group(1)
        return str(values.get(name, 1))

    return re.sub(r"\{(\w+)(?::\w+)?\}", one, path)
