"""Profile one "decide + next record" request in-process (FastAPI TestClient, SQLite or PostgreSQL).

Run: ``python bench/profile_next.py --records 2000 [--pg]`` (``--pg``: a temporary PostgreSQL database
on the server of ``METAREVIEW_TEST_PG``, dropped afterwards). Prints the wall
time and the process CPU time of the requests (median, 95th percentile, max; the CPU time is less
sensitive to other jobs on the machine, and with SQLite it includes the database's work), then the top
of cProfile's cumulative listing of the route's work called directly.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=2000)
    ap.add_argument("--votes", type=int, default=300)
    ap.add_argument("--pg", action="store_true", help="a temporary PostgreSQL database, not SQLite")
    ap.add_argument("--requests", type=int, default=50)
    ap.add_argument("--top", type=int, default=25, help="lines of cProfile's listing (0: skip profiling)")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    sys.path.insert(0, str(ROOT / "bench"))
    from bench_web import ris
    from fastapi.testclient import TestClient

    from metareview.records.importer import import_file
    from metareview.screening import decisions as sd
    from metareview.screening.queue import next_record
    from metareview.team import accounts, members, work
    from metareview.team.server import REVIEWER, Server
    from metareview.web.app import create_app

    tmp = Path(tempfile.mkdtemp(prefix="profile-next-"))
    db = None
    if args.pg:
        import os
        import uuid

        import sqlalchemy as sa

        pg = os.environ.get("METAREVIEW_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
        dbname = "mr_profile_" + uuid.uuid4().hex[:8]
        admin = sa.create_engine(pg, isolation_level="AUTOCOMMIT")
        with admin.connect() as con:
            con.execute(sa.text(f'CREATE DATABASE "{dbname}"'))
        db = sa.engine.make_url(pg).set(database=dbname).render_as_string(hide_password=False)
    server = Server.open(tmp / "server", db)
    owner = accounts.create_user(server, "owner", "bench password 1", admin=True)
    hosted = server.create_review("Profile review", owner.id)
    tokens = []
    for name in ("ana", "ben"):
        acc = accounts.create_user(server, name, "bench password 1")
        members.accept(server, members.invite(server, hosted.slug, owner, REVIEWER), acc)
        tokens.append(accounts.create_token(server, acc.id, "bench"))
    (tmp / "s.ris").write_text(ris(args.records), encoding="utf-8")
    review = server.review(hosted.slug)
    import_file(review, tmp / "s.ris", "MEDLINE")
    for rid in range(1, args.votes + 1):  # ben's votes: labels for the ranker
        sd.decide(review, rid, "ben", "include" if rid % 7 == 0 else "exclude")
    client = TestClient(create_app(server))
    h = {"Authorization": f"Bearer {tokens[0]}"}
    base = f"/api/reviews/{hosted.slug}"

    def one(record_id: int) -> tuple[float, float, int | None]:
        t, c = time.perf_counter(), time.process_time()
        decision = "include" if record_id % 7 == 0 else "exclude"
        r = client.post(f"{base}/decisions?then_next=true", headers=h,
                        json={"record_id": record_id, "decision": decision})
        assert r.status_code == 200, r.text
        nxt = r.json()["next"]["record"]
        return time.perf_counter() - t, time.process_time() - c, nxt["id"] if nxt else None

    nxt = client.get(f"{base}/next", headers=h).json()["record"]["id"]
    wall, cpu = [], []
    for _ in range(args.requests + 5):
        w, c, nxt = one(nxt)
        wall.append(w)
        cpu.append(c)
    wall, cpu = sorted(wall[5:]), sorted(cpu[5:])  # the first 5: warm-up (features, first fits)

    def pct(xs: list[float], q: float) -> float:
        return xs[min(len(xs) - 1, int(q * (len(xs) - 1)))] * 1000

    print(f"{args.requests} decide+next requests after 5 warm-up, {args.records} records, "
          f"{'PostgreSQL' if db else 'SQLite'}: wall median {pct(wall, .5):.1f} ms, p95 "
          f"{pct(wall, .95):.1f} ms, max {wall[-1] * 1000:.1f} ms; CPU median {pct(cpu, .5):.1f} ms, p95 "
          f"{pct(cpu, .95):.1f} ms")
    if args.top <= 0:
        server.close()
        if db:
            with admin.connect() as con:
                con.execute(sa.text(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))
        return
    # the route's work, called directly (cProfile does not follow the TestClient's server thread)
    prof = cProfile.Profile()
    for _ in range(args.requests):
        nxt = next_record(review, "ana")
        assert nxt is not None
        prof.enable()
        decision = "include" if nxt.record_id % 7 == 0 else "exclude"
        work.decide_once(review, None, nxt.record_id, "ana", decision)
        next_record(review, "ana", background=True)
        prof.disable()
    pstats.Stats(prof).sort_stats("cumulative").print_stats(args.top)
    server.close()
    if db:
        with admin.connect() as con:
            con.execute(sa.text(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
