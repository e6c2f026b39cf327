"""`python -m devstack.bench` (`make bench`): start everything, seed, measure, print the figures.

BENCH_PEOPLE (default 100000) is the population; the reports curve is also measured at 1,000 and
10,000 people (those below BENCH_PEOPLE), each on a population of its own. BENCH_ROUNDS (default 3)
is the number of interleaved rounds where a figure is a ratio to a reference.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import smtplib
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import psycopg

from devstack.people import MAIL_DOMAIN
from devstack.ports import TEST, Ports
from devstack.process import ManagedProcess

from . import breached, memory, resets, seed
from .clients import Browser, LatencySampler, median, percentile, requests_per_second, timed
from .figures import Report
from .mailbox import Mailbox, connections_at_once, rate
from .stack import REPO, Population, clear_rate_limits

CURVE = (1_000, 10_000, 100_000)
FLOOR_MS = 300            # the production default of [reset] min_response_ms
CONCURRENT_FLOWS = 16
PACED_CLIENTS = 32
LANDING_SECONDS = 3.0
PACED_SECONDS = 10.0
CSV_LINK = re.compile(r'href="(/admin/reports/([a-z]+)\.csv[^"]*)"')
REFERENCE_PORT_SHIFT, FLOOR0_PORT_SHIFT = 6, 5


def main() -> int:
    size = int(os.environ.get("BENCH_PEOPLE", "100000"))
    rounds = int(os.environ.get("BENCH_ROUNDS", "3"))
    started = time.monotonic()
    report = Report()
    workdir = Path(f"/tmp/pp-bench-{os.getpid()}")  # short: slapd's ldapi socket path
    shutil.rmtree(workdir, ignore_errors=True)
    clear_rate_limits()
    try:
        breached.lookup_figures(report, workdir / "breached")
        with Mailbox(TEST.smtp, workdir / "mail") as mailbox:
            for smaller in (s for s in CURVE if s < size):
                with Population(smaller, TEST, workdir / f"people-{smaller}") as population:
                    report.note(f"{smaller} people seeded in {population.seconds_to_seed:.1f} s")
                    with main_portal(population) as portal:
                        reports_figures(report, population, portal, measure_memory=False)
            with Population(size, TEST, workdir / f"people-{size}") as population:
                report.add(f"seed_{size}", population.seconds_to_seed, "s", "<=", 180)
                full_run(report, population, mailbox, rounds)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    report.add("bench_minutes", (time.monotonic() - started) / 60, "min", "<=", 20)
    return 0 if all(f.passed for f in report.figures) else 1


@contextmanager
def main_portal(population: Population, floor_ms: int = FLOOR_MS,
                model: tuple[str, ...] = ()) -> Iterator[ManagedProcess]:
    """The portal on the TEST port (the one the dev provider sends administrators back to);
    `model` is gunicorn arguments for another worker model (devstack/bench/models.py)."""
    portal = population.portal("portal", population.ports.portal, floor_ms=floor_ms, argv=model)
    with portal:
        yield portal


def full_run(report: Report, population: Population, mailbox: Mailbox, rounds: int) -> None:
    ports = population.ports
    with ExitStack() as stack:
        portal = stack.enter_context(main_portal(population))
        floor0_port = ports.portal + FLOOR0_PORT_SHIFT
        stack.enter_context(population.portal("portal-floor0", floor0_port, floor_ms=0))
        idle_memory(report, portal, ports)
        landing_ratio(report, population, portal, rounds)
        anonymous_rows(report, population, ports)
        people = resets.People(population.size)
        flow0 = reset_service(report, f"http://127.0.0.1:{floor0_port}", mailbox, people)
        reset_flow(report, ports.portal_url, mailbox, people, flow0)
        paced_load(report, ports, people, rounds)
        reports_figures(report, population, portal, measure_memory=True)
    people_walk(report, population)
    delivery(report, population, mailbox, rounds)
    queueing(report, population)


# -- landing ------------------------------------------------------------------------------------

def idle_memory(report: Report, portal: ManagedProcess, ports: Ports) -> None:
    """After a few answers from each worker (imports that happen on first use are counted)."""
    for _ in range(20):
        Browser(ports.portal_url, "10.6.0.1").get("/")
    assert portal.process is not None
    idle = memory.workers_uss(portal.process.pid)
    report.add("worker_uss_idle", max(idle.values()), "MB", "<=", 60)


def landing_ratio(report: Report, population: Population, portal: ManagedProcess, rounds: int,
                  model: tuple[str, ...] = ()) -> None:
    """The portal's `/` against a bare Flask+Jinja page of the same size, same gunicorn settings,
    rounds interleaved, the median of the per-round ratios.

    The ratio is of capacity: server CPU seconds per answer (gunicorn's master and workers), the
    reference's over the portal's, which is the ratio of requests per second both would reach on
    the same cores. The clients share this machine's cores; a plain req/s ratio would count their
    cost (the same for both) into each side and drift towards 1, and the other tenants' load with it.
    The raw req/s of each round are noted."""
    ports = population.ports
    size = len(Browser(ports.portal_url, "10.6.0.1").get("/").content)
    reference_port = ports.portal + REFERENCE_PORT_SHIFT
    reference = population.portal("reference", reference_port, argv=(*model, "devstack.bench.reference:app"),
                                  extra={"BENCH_REFERENCE_BYTES": str(size)})
    ratios = []
    with reference:
        assert reference.process is not None and portal.process is not None
        portal_pid = portal.process.pid
        for _ in range(rounds):
            portal_rate, portal_cpu = _loaded(portal_pid, ports.portal)
            reference_rate, reference_cpu = _loaded(reference.process.pid, reference_port)
            ratios.append(reference_cpu / portal_cpu)
            report.note(f"landing round: portal {portal_rate:.0f} req/s at {portal_cpu * 1000:.2f} ms CPU each, "
                        f"reference {reference_rate:.0f} req/s at {reference_cpu * 1000:.2f} ms ({size} bytes)")
    report.add("landing_ratio", median(ratios), "x", ">=", 0.8)


def _loaded(master_pid: int, port: int) -> tuple[float, float]:
    """Requests per second of `/` on `port`, and server CPU seconds per request."""
    before = memory.cpu_seconds(master_pid)
    per_second = requests_per_second(port, "/", LANDING_SECONDS)
    return per_second, (memory.cpu_seconds(master_pid) - before) / max(per_second * LANDING_SECONDS, 1)


def anonymous_rows(report: Report, population: Population, ports: Ports, visits: int = 20) -> None:
    """Rows in the store after `visits` first visits of GET /reset/ (fresh browsers), per visit."""
    before = store_rows(population.database_url)
    for visit in range(visits):
        Browser(ports.portal_url, f"10.5.0.{visit + 1}").get("/reset/")
    report.add("anonymous_reset_rows", (store_rows(population.database_url) - before) / visits, "rows", "<=", 0)


def store_rows(url: str) -> int:
    with psycopg.connect(url) as conn:
        tables = [row[0] for row in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'")]
        return sum(conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] for table in tables)  # type: ignore[index]


# -- resets -------------------------------------------------------------------------------------

def _flows(base_url: str, mailbox: Mailbox, people: resets.People, rounds: int) -> resets.Collected:
    collected = resets.Collected()
    for round_number in range(rounds):
        resets.at_once(CONCURRENT_FLOWS, lambda slot: resets.whole_flow(
            base_url, mailbox, people.take(), f"10.4.{round_number}.{slot + 1}"), collected)
    if collected.errors:
        Report.note(f"{len(collected.errors)} flows failed, first: {collected.errors[0]}")
    return collected


def reset_service(report: Report, base_url: str, mailbox: Mailbox, people: resets.People) -> float:
    """Each request's p95 with the floor at 0, 16 people at once; returns the whole flow's p50.

    The email-code flow runs no argon2 (only security answers, and their decoys, are hashed), so
    nothing is excluded from these times; the wait for the mail is not a step."""
    collected = _flows(base_url, mailbox, people, rounds=3)
    for step in resets.STEPS:
        report.add(f"reset_service_p95_{step}", percentile(collected.times.get(step, []), 0.95) * 1000,
                   "ms", "<=", 50)
    return median(collected.times.get("total", []))


def reset_flow(report: Report, base_url: str, mailbox: Mailbox, people: resets.People, flow0: float) -> None:
    """16 whole flows at once with the floor on: floor x paced steps + the floor-0 flow (same run)."""
    collected = _flows(base_url, mailbox, people, rounds=2)
    target = len(resets.PACED) * FLOOR_MS / 1000 + flow0 + 0.1
    report.add("reset_flow_p50", median(collected.times.get("total", [])), "s", "<=", round(target, 2))


def paced_load(report: Report, ports: Ports, people: resets.People, rounds: int) -> None:
    """32 paced requests in flight from 32 addresses: landing p95 against its unloaded p95
    (interleaved rounds, median ratio) and each paced step's p95 against floor + 100 ms."""
    ratios: list[float] = []
    collected = resets.Collected()
    for _ in range(rounds):
        with LatencySampler(ports.portal) as unloaded:
            time.sleep(PACED_SECONDS / 2)
        stop = threading.Event()
        threads = resets.keep_paced(PACED_CLIENTS, ports.portal_url, people, stop, collected)
        time.sleep(1.0)  # every client has a request in flight
        with LatencySampler(ports.portal) as loaded:
            time.sleep(PACED_SECONDS)
        stop.set()
        for thread in threads:
            thread.join()
        ratios.append(percentile(loaded.samples, 0.95) / percentile(unloaded.samples, 0.95))
    if collected.errors:
        Report.note(f"{len(collected.errors)} paced clients failed, first: {collected.errors[0]}")
    report.add("paced_landing_p95_ratio", median(ratios), "x", "<=", 3)
    for step in resets.PACED:
        report.add(f"paced_p95_{step}", percentile(collected.times.get(step, []), 0.95) * 1000, "ms", "<=",
                   FLOOR_MS + 100)


# -- reports ------------------------------------------------------------------------------------

REPORTS_SHOW_ROUNDS = 3

def reports_figures(report: Report, population: Population, portal: ManagedProcess, *, measure_memory: bool) -> None:
    """The reports page, each CSV it links, a draft campaign's audience count, `reports show`;
    with `measure_memory`, the workers' USS growth over the pass."""
    n = population.size
    admin = Browser(population.ports.portal_url, "10.3.0.1")
    admin.sign_in(seed.ADMIN, seed.ADMIN_PASSWORD)
    assert portal.process is not None
    before = memory.workers_uss(portal.process.pid)
    page = admin.get("/admin/reports", "page")
    report.add(f"reports_page_{n}", admin.times["page"], "s", "<=", 1)
    for link, name in dict.fromkeys(CSV_LINK.findall(page.text)):
        admin.get(link.replace("&amp;", "&"), name)
        report.add(f"report_csv_{name}_{n}", admin.times[name], "s", "<=", 1)
    campaign = population.flask("campaign", "create", "--template", "available_now", "--audience",
                                "everybody").stdout.strip().splitlines()[-1]
    admin.get(f"/admin/campaigns/{campaign}", "audience")
    report.add(f"campaign_audience_{n}", admin.times["audience"], "s", "<=", 1)
    # the command's own time: less a command that starts the same app and reads next to nothing,
    # interleaved over rounds, the median (one start-up alone varies by a second on a busy machine)
    report.add(f"reports_show_{n}", median([timed(lambda: population.flask("reports", "show", "coverage"))
                                            - timed(lambda: population.flask("campaign", "list"))
                                            for _round in range(REPORTS_SHOW_ROUNDS)]), "s", "<=", 1)
    if measure_memory:
        after = memory.workers_uss(portal.process.pid)
        report.add(f"worker_uss_growth_{n}", max(after[pid] - before.get(pid, after[pid]) for pid in after),
                   "MB", "<=", 50)


def people_walk(report: Report, population: Population) -> None:
    found = subprocess.run([sys.executable, "-m", "devstack.bench.probe", "people"], cwd=REPO, check=True,
                           capture_output=True, text=True, timeout=1200,
                           env={**os.environ, **population.environ})
    walk = json.loads(found.stdout.strip().splitlines()[-1])
    report.add(f"people_seconds_{population.size}", walk["seconds"], "s", "<=", 10)
    report.add(f"people_memory_{population.size}", walk["growth_mb"], "MB", "<=", 50)


# -- delivery -----------------------------------------------------------------------------------

NO_WORKER = {"PORTAL_OUTBOX__IN_PROCESS_WORKER": "false"}
REFERENCE_TO = "reference@mail.example"  # campaigns go to work addresses (@example.test), codes to .home@mail.example


def delivery(report: Report, population: Population, mailbox: Mailbox, rounds: int) -> None:
    """A campaign to DELIVERY_GROUP delivered by `outbox deliver`, against plain smtplib sending
    the same messages over as many connections at once as the portal used, interleaved rounds."""
    ratios = []
    count = min(seed.DELIVERY_SIZE, population.size)
    population.flask("outbox", "deliver", env=NO_WORKER)  # codes the figures before left queued
    for _ in range(rounds):
        campaign = _queued_campaign(population, seed.DELIVERY_GROUP)
        mark = mailbox.mark()
        population.flask("outbox", "deliver", env=NO_WORKER)
        arrivals = mailbox.wait_arrivals(mark, count, timeout=600, to=lambda to: to.endswith(f"@{MAIL_DOMAIN}"))
        portal_rate, connections = rate(arrivals), connections_at_once(arrivals)
        sample = sorted(mailbox.sink.maildir.glob("*.eml"))[-1].read_bytes().replace(b"\n", b"\r\n")
        mark = mailbox.mark()
        plain_smtplib(population.ports.smtp, sample, count, connections)
        reference_rate = rate(mailbox.wait_arrivals(mark, count, timeout=600, to=lambda to: to == REFERENCE_TO))
        ratios.append(portal_rate / reference_rate)
        report.note(f"delivery round (campaign {campaign}): portal {portal_rate:.0f}/s over {connections} "
                    f"connection(s), smtplib {reference_rate:.0f}/s")
        mailbox.clear()
    report.add("delivery_ratio", median(ratios), "x", ">=", 0.8)


def _queued_campaign(population: Population, group: str) -> str:
    campaign = population.flask("campaign", "create", "--template", "available_now", "--audience", "everybody",
                                "--group", group, env=NO_WORKER).stdout.strip().splitlines()[-1]
    population.flask("campaign", "send", campaign, "--no-wait", env=NO_WORKER)
    return campaign


def plain_smtplib(port: int, message: bytes, count: int, connections: int) -> None:
    def send(share: int) -> None:
        with smtplib.SMTP("127.0.0.1", port, timeout=60) as smtp:
            for _ in range(share):
                smtp.sendmail("passwords@example.test", [REFERENCE_TO], message)

    shares = [count // connections + (1 if i < count % connections else 0) for i in range(connections)]
    threads = [threading.Thread(target=send, args=(share,)) for share in shares if share]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def queueing(report: Report, population: Population) -> None:
    """`campaign send --no-wait` to QUEUE_GROUP (10,000 people, or everyone in a smaller run),
    minus the same command's start-up (`campaign status`, measured right after)."""
    count = min(seed.QUEUE_SIZE, population.size)
    campaign = population.flask("campaign", "create", "--template", "available_now", "--audience", "everybody",
                                "--group", seed.QUEUE_GROUP, env=NO_WORKER).stdout.strip().splitlines()[-1]
    sending = timed(lambda: population.flask("campaign", "send", campaign, "--no-wait", env=NO_WORKER))
    baseline = timed(lambda: population.flask("campaign", "status", campaign, env=NO_WORKER))
    report.add(f"queue_{count}", sending - baseline, "s", "<=", 5)
