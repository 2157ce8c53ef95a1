"""Migration 0005 creates exactly the team tables the models describe (Alembic autogenerate finds no
difference), and accounts/invitations behave at the engine level."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from metareview.errors import InputError
from metareview.store.db import make_engine, upgrade
from metareview.store.models import Base
from metareview.team import accounts, members
from metareview.team.server import OWNER, REVIEWER


def test_migration_matches_team_models(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.sqlite'}")
    upgrade(engine)
    with engine.connect() as con:
        diff = compare_metadata(MigrationContext.configure(con), Base.metadata)
    assert [d for d in diff if "team_" in str(d)] == []
    engine.dispose()


def test_last_owner_stays_and_roles_are_checked(server):
    olga = accounts.create_user(server, "olga", "a long passphrase", admin=True)
    ana = accounts.create_user(server, "ana", "a long passphrase")
    hosted = server.create_review("R", olga.id)
    members.accept(server, members.invite(server, hosted.slug, olga, REVIEWER), ana)
    with pytest.raises(InputError, match="at least one owner"):
        members.set_role(server, hosted.slug, olga, olga.id, REVIEWER)
    with pytest.raises(InputError, match="role must be"):
        members.set_role(server, hosted.slug, olga, ana.id, "admin")
    with pytest.raises(members.Forbidden):
        members.invite(server, hosted.slug, ana, OWNER)
    members.set_role(server, hosted.slug, olga, ana.id, OWNER)
    members.remove(server, hosted.slug, ana, olga.id)
    assert [m["name"] for m in members.member_list(server, hosted.slug)] == ["ana"]


def test_api_tokens_are_stored_as_hashes(server):
    from metareview.store import team_repo

    olga = accounts.create_user(server, "olga", "a long passphrase")
    secret = accounts.create_token(server, olga.id, "script")
    assert accounts.token_account(server, secret).name == "olga"
    with server.session() as s:
        stored = [t.token_hash for t in team_repo.tokens_of(s, olga.id)]
    assert secret not in stored and stored == [accounts.digest(secret)]
    accounts.revoke_token(server, olga.id, accounts.list_tokens(server, olga.id)[0]["id"])
    assert accounts.token_account(server, secret) is None
