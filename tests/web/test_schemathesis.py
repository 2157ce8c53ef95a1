"""schemathesis against the app's OpenAPI description: no request the description allows (or a
slightly broken one) gets a 5xx answer. Bounded: a few examples per operation."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

schemathesis = pytest.importorskip("schemathesis")

from metareview.team import accounts, members  # noqa: E402
from metareview.team.server import REVIEWER, Server  # noqa: E402
from metareview.web.app import create_app  # noqa: E402
from tests.web.conftest import PASSWORD, TITLES, ris_text  # noqa: E402

_STATE: dict[str, object] = {}
STATUSES: list[int] = []


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory):
    from metareview.records.importer import import_file

    tmp = tmp_path_factory.mktemp("st")
    server = Server.open(tmp / "server")
    olga = accounts.create_user(server, "olga", PASSWORD, admin=True)
    ana = accounts.create_user(server, "ana", PASSWORD)
    hosted = server.create_review("R1", olga.id)
    members.accept(server, members.invite(server, hosted.slug, olga, REVIEWER), ana)
    ris = tmp / "s.ris"
    ris.write_text(ris_text(TITLES), encoding="utf-8")
    import_file(server.review(hosted.slug), ris, "MEDLINE")
    token = accounts.create_token(server, olga.id, "schemathesis")
    app = create_app(server)
    _STATE["auth"] = {"Authorization": f"Bearer {token}"}
    _STATE["slug"] = hosted.slug
    yield schemathesis.openapi.from_asgi("/api/openapi.json", app, headers=_STATE["auth"])
    server.close()


def test_api_never_answers_5xx(api_schema):
    """Every operation of the description, with generated valid and invalid requests."""
    ran = 0
    for result in api_schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case):
            if case.path_parameters and "slug" in case.path_parameters:
                case.path_parameters["slug"] = _STATE["slug"]  # the review the token may use
            response = case.call(headers=_STATE["auth"])
            STATUSES.append(response.status_code)
            assert response.status_code < 500, (case.method, case.formatted_path, response.text[:300])

        run()
        ran += 1
    assert ran >= 10
    assert STATUSES.count(200) > 20  # the requests got past authentication
