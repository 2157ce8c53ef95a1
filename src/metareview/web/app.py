"""The FastAPI application: pages (``pages.py``), the JSON API (``api.py``), static files, errors."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from metareview.errors import InputError, MetareviewError
from metareview.team.accounts import Account, RateLimited
from metareview.team.members import Forbidden
from metareview.team.server import Server
from metareview.web import api, pages
from metareview.web.render import render
from metareview.web.security import NeedSignin, api_user

STATIC = Path(__file__).with_name("static")


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; object-src 'self'; frame-src 'self'; "
        b"frame-ancestors 'self'; form-action 'self'; base-uri 'none'",
    ),
    (b"x-frame-options", b"SAMEORIGIN"),
]


class _SecurityHeaders:
    """Adds the security headers to every response that does not set them itself (a plain ASGI
    middleware: no extra task or stream per request, unlike ``@app.middleware``)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in _HEADERS if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(server: Server) -> FastAPI:
    """The app serving ``server``'s reviews."""
    app = FastAPI(
        title="metareview team server",
        version="1",
        description="Screening, conflicts and dashboards of the reviews on this server. "
        "Authenticate with `Authorization: Bearer <personal API token>` (Account page).",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.server = server
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(pages.router)
    app.include_router(api.router)

    @app.get("/api/openapi.json", include_in_schema=False)
    def _openapi(account: Annotated[Account, Depends(api_user)]) -> JSONResponse:
        """The OpenAPI description (for signed-in users and token holders)."""
        return JSONResponse(app.openapi())

    app.add_middleware(_SecurityHeaders)

    @app.exception_handler(NeedSignin)
    async def _signin(request: Request, exc: NeedSignin) -> Response:
        return RedirectResponse("/signin", status_code=303)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": "not found"}, status_code=404)
        return render(request, "error.html", {"message": "No such review, or you may not do that here."},
                      status=404)

    @app.exception_handler(RateLimited)
    async def _limited(request: Request, exc: RateLimited) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": str(exc)}, status_code=429)
        return render(request, "signin.html", {"error": str(exc)}, status=429)

    @app.exception_handler(InputError)
    async def _input(request: Request, exc: InputError) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": str(exc), "field": exc.field}, status_code=400)
        return render(request, "error.html", {"message": str(exc)}, status=400)

    @app.exception_handler(MetareviewError)
    async def _other(request: Request, exc: MetareviewError) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": str(exc)}, status_code=409)
        return render(request, "error.html", {"message": str(exc)}, status=409)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        if _is_api(request) or exc.status_code == 405:
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        return render(request, "error.html", {"message": str(exc.detail)}, status=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": exc.errors()}, status_code=422)
        msgs = "; ".join(f"{'.'.join(map(str, e['loc'][1:]))}: {e['msg']}" for e in exc.errors())
        return render(request, "error.html", {"message": msgs}, status=422)

    return app
