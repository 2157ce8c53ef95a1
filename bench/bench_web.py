"""Team server under load with faults (run by hand; writes bench/results/web.md).

N reviewer clients (threads, one account and API token each) make D decisions over HTTP on an R-record
review (re-ranking on: each reviewer's ranker is refitted on their votes as they go, every 10 of their
decisions) against ``metareview serve --workers W`` on PostgreSQL. The server is killed with SIGKILL
(the whole process group, supervisor and workers) K times during the run and restarted. A client whose
request fails retries it with the same ``Idempotency-Key`` until the server acknowledges it.
Afterwards: every acknowledged decision is in the store (0 lost) and none is there twice.

``--think S``: each client pauses a random 0..2S seconds (mean S) before each decision, as a reviewer
reading the record does; 0 (the default) is a stress test in which 20 clients send their next request
the moment the last one is answered, so the latency measures the queue for the machine's cores.

    python bench/bench_web.py --records 10000 --decisions 10000 --clients 20 --workers 2 --kills 2

The table of the run replaces the part of ``bench/results/web.md`` between the markers
``<!-- bench_web.py: latest run -->`` and ``<!-- /latest run -->`` (the rest of the file, the history,
is kept); ``--out`` writes it to another file.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
PG = os.environ.get("METAREVIEW_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
WORDS = ("internet guided depression anxiety support coach digital meta-analysis trial app stress ptsd "
         "protocol telephone adults students workplace mindfulness cbt self-help waitlist").split()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ris(n: int, seed: int = 1) -> str:
    import random

    rnd = random.Random(seed)
    out = []
    for i in range(1, n + 1):
        title = " ".join(rnd.choices(WORDS, k=9)) + f" study {i}"
        abstract = " ".join(rnd.choices(WORDS, k=60))
        out.append(f"TY  - JOUR\nTI  - {title}\nAU  - Author{i}, A.\nPY  - {2000 + i % 24}\n"
                   f"JO  - Journal {i % 50}\nAB  - {abstract}\nDO  - 10.5555/bench.{i}\nER  - \n")
    return "\n".join(out)


def _cpu_s(pid: int) -> float | None:
    """utime + stime of a process in seconds (None when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuSampler(threading.Thread):
    """Samples the CPU time of the app processes (the server's process group) and of the PostgreSQL
    backends serving the bench database, twice a second; ``used()`` is the CPU time they used while
    sampled (a process's time before its first sample is counted only for processes that were seen
    starting, i.e. the app workers restarted after a kill)."""

    def __init__(self, pgids: list[int], admin: sa.Engine, database: str) -> None:
        super().__init__(daemon=True)
        self.pgids, self.admin, self.database = pgids, admin, database
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.kind: dict[int, str] = {}
        self.rounds = 0
        self.stop = threading.Event()

    def _app_pids(self) -> list[int]:
        out = []
        for d in Path("/proc").iterdir():
            if d.name.isdigit():
                try:
                    pgid = os.getpgid(int(d.name))
                except OSError:
                    continue
                if pgid in self.pgids:
                    out.append(int(d.name))
        return out

    def _pg_pids(self) -> list[int]:
        with self.admin.connect() as con:
            rows = con.execute(sa.text("select pid from pg_stat_activity where datname = :d"),
                               {"d": self.database})
            return [int(r[0]) for r in rows]

    def run(self) -> None:
        while not self.stop.is_set():
            for kind, pids in (("app", self._app_pids()), ("postgres", self._pg_pids())):
                for pid in pids:
                    t = _cpu_s(pid)
                    if t is None:
                        continue
                    self.first.setdefault(pid, 0.0 if kind == "app" and self.rounds else t)
                    self.last[pid] = t
                    self.kind[pid] = kind
            self.rounds += 1
            self.stop.wait(0.5)

    def used(self, kind: str) -> float:
        return sum(self.last[p] - self.first[p] for p in self.last if self.kind[p] == kind)


def start(data: Path, url: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from metareview.cli import main; main()", "serve", "--data", str(data),
         "--db", url, "--port", str(port), "--workers", str(workers)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    deadline = time.time() + 300  # a loaded machine: workers import the engine before serving
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/signin", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError("server did not start")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=10000)
    ap.add_argument("--decisions", type=int, default=10000)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--kills", type=int, default=2)
    ap.add_argument("--think", type=float, default=0.0, help="mean seconds a reviewer reads a record")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "web.md")
    args = ap.parse_args()
    load_start = os.getloadavg()

    sys.path.insert(0, str(ROOT / "src"))
    from metareview.records.importer import import_file
    from metareview.team import accounts, members
    from metareview.team.server import REVIEWER, Server

    name = "mr_bench_" + uuid.uuid4().hex[:8]
    admin = sa.create_engine(PG, isolation_level="AUTOCOMMIT")
    with admin.connect() as con:
        con.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(PG).set(database=name).render_as_string(hide_password=False)
    tmp = Path(tempfile.mkdtemp(prefix="bench-web-"))
    data = tmp / "server"
    t0 = time.perf_counter()
    server = Server.open(data, url)
    owner = accounts.create_user(server, "owner", "bench password 1", admin=True)
    hosted = server.create_review("Bench review", owner.id)
    tokens = []
    for i in range(args.clients):
        acc = accounts.create_user(server, f"rev{i:02d}", "bench password 1")
        members.accept(server, members.invite(server, hosted.slug, owner, REVIEWER), acc)
        tokens.append(accounts.create_token(server, acc.id, "bench"))
    (tmp / "s.ris").write_text(ris(args.records), encoding="utf-8")
    import_file(server.review(hosted.slug), tmp / "s.ris", "MEDLINE")
    setup_s = time.perf_counter() - t0

    port = free_port()
    base = f"http://127.0.0.1:{port}/api/reviews/{hosted.slug}"
    proc = [start(data, url, port, args.workers)]
    lock = threading.Lock()
    acked: list[tuple[str, str, int]] = []  # (reviewer, key, record)
    latencies: list[float] = []
    counts = Counter()
    budget = [args.decisions]
    done = threading.Event()

    def take() -> bool:
        with lock:
            if budget[0] <= 0:
                return False
            budget[0] -= 1
            return True

    def client(i: int) -> None:
        import random

        rnd = random.Random(i)
        h = {"Authorization": f"Bearer {tokens[i]}"}
        with httpx.Client(timeout=30) as c:
            nxt = None
            while nxt is None:
                try:
                    nxt = c.get(f"{base}/next", headers=h).json()["record"]
                except (httpx.HTTPError, KeyError, ValueError):
                    time.sleep(0.3)
            while nxt is not None and take():
                if args.think:
                    time.sleep(rnd.uniform(0, 2 * args.think))
                key = uuid.uuid4().hex
                body = {"record_id": nxt["id"], "decision": "include" if nxt["id"] % 7 == 0 else "exclude"}
                first_try, t = True, time.perf_counter()
                while True:
                    try:
                        r = c.post(f"{base}/decisions?then_next=true", json=body,
                                   headers={**h, "Idempotency-Key": key})
                    except httpx.HTTPError:
                        first_try = False
                        counts["retries"] += 1
                        time.sleep(0.3)
                        continue
                    if r.status_code >= 500:
                        first_try = False
                        counts["retries_5xx"] += 1
                        time.sleep(0.3)
                        continue
                    break
                if r.status_code == 200:
                    out = r.json()
                    with lock:
                        acked.append((f"rev{i:02d}", key, body["record_id"]))
                        if first_try:
                            latencies.append(time.perf_counter() - t)
                        counts["repeated"] += out["repeated"]
                    nxt = out["next"]["record"]
                else:
                    counts[f"http_{r.status_code}"] += 1
                    with lock:
                        budget[0] += 1
                    try:
                        nxt = c.get(f"{base}/next", headers=h).json()["record"]
                    except (httpx.HTTPError, KeyError, ValueError):
                        nxt = {"id": body["record_id"]}

    threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
    pgids = [proc[0].pid]
    sampler = CpuSampler(pgids, admin, name)
    sampler.start()
    own_cpu = time.process_time()
    t_run = time.perf_counter()
    for t in threads:
        t.start()

    def killer() -> None:
        for k in range(args.kills):
            target = args.decisions * (k + 1) // (args.kills + 1)
            while len(acked) < target and not done.is_set():
                time.sleep(0.05)
            if done.is_set():
                return
            os.killpg(proc[0].pid, signal.SIGKILL)
            proc[0].wait()
            counts["kills"] += 1
            proc[0] = start(data, url, port, args.workers)
            pgids.append(proc[0].pid)

    kt = threading.Thread(target=killer)
    kt.start()
    for t in threads:
        t.join()
    done.set()
    kt.join()
    run_s = time.perf_counter() - t_run
    own_cpu = time.process_time() - own_cpu
    sampler.stop.set()
    sampler.join()
    try:
        os.killpg(proc[0].pid, signal.SIGKILL)
    except ProcessLookupError:
        pass

    review = server.review(hosted.slug)
    from metareview.store import screening_repo

    with review.session() as s:
        events = screening_repo.events(s, stage="title_abstract")
    per = Counter((e.reviewer, e.record_id) for e in events if e.kind == "vote")
    lost = sum(1 for rv, _, rid in acked if per[(rv, rid)] == 0)
    doubled = sum(1 for n in per.values() if n > 1)
    over = sum(1 for n in Counter(e.record_id for e in events).values() if n > 2)
    lat = sorted(latencies)
    p50 = statistics.median(lat) * 1000
    p95 = lat[int(0.95 * (len(lat) - 1))] * 1000
    p99 = lat[int(0.99 * (len(lat) - 1))] * 1000
    server.close()
    with admin.connect() as con:
        con.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    load_end = os.getloadavg()

    think = f" --think {args.think:g}" if args.think else ""
    lines = [
        "<!-- bench_web.py: latest run -->",
        f"Run: `nice -n 10 python bench/bench_web.py --records {args.records} --decisions {args.decisions} "
        f"--clients {args.clients} --workers {args.workers} --kills {args.kills}{think}` on PostgreSQL, "
        f"on the shared 2-core development machine (`uptime` load average {load_start[0]:.1f} at the start, "
        f"{load_end[0]:.1f} at the end).",
        "",
        "| measure | value |",
        "|---|---:|",
        f"| records in the review | {args.records} |",
        f"| reviewer clients (threads, one account each) | {args.clients} |",
        f"| mean reading time before each decision (s) | {args.think:g} |",
        f"| app processes (`--workers`) | {args.workers} |",
        f"| server killed with SIGKILL and restarted | {counts['kills']} |",
        f"| decisions acknowledged | {len(acked)} |",
        f"| acknowledged decisions missing from the store | {lost} |",
        f"| (reviewer, record) pairs with more than one vote | {doubled} |",
        f"| records with more than 2 votes | {over} |",
        f"| retries after a dropped connection / 5xx | {counts['retries']} / {counts['retries_5xx']} |",
        f"| retried requests answered from the idempotency record | {counts['repeated']} |",
        f"| refused (4xx, e.g. record already has its 2 votes) | "
        f"{sum(v for k, v in counts.items() if k.startswith('http_'))} |",
        f"| decide + next record, p50 (ms; first tries only, n={len(lat)}) | {p50:.0f} |",
        f"| decide + next record, p95 (ms) | {p95:.0f} |",
        f"| decide + next record, p99 / max (ms) | {p99:.0f} / {lat[-1] * 1000:.0f} |",
        f"| decisions per second (acknowledged / wall time) | {len(acked) / run_s:.1f} |",
        f"| CPU time per acknowledged decision, ms: app processes (with restarts) / PostgreSQL "
        f"backends / bench clients | {sampler.used('app') / len(acked) * 1000:.1f} / "
        f"{sampler.used('postgres') / len(acked) * 1000:.1f} / {own_cpu / len(acked) * 1000:.1f} |",
        f"| wall time of the run (s) | {run_s:.1f} |",
        f"| setup: accounts, import (s) | {setup_s:.1f} |",
        "<!-- /latest run -->",
    ]
    table = "\n".join(lines)
    out: Path = args.out
    old = out.read_text(encoding="utf-8") if out.exists() else ""
    begin, end = old.find(lines[0]), old.find(lines[-1])
    if begin >= 0 and end > begin:
        text = old[:begin] + table + old[end + len(lines[-1]):]
    else:
        text = old.rstrip() + ("\n\n" if old else "") + table + "\n"
    out.write_text(text, encoding="utf-8")
    print(table)


if __name__ == "__main__":
    main()
