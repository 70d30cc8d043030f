"""Benchmark: planning an incident against validating it alone (target: plan <= 2x validation).

Generates varied incident records as a case system sends them (JSON-like dicts, string dates):
every nature and abuse finding, looked-after children, care leavers of every age, historical harm
of children and young adults, several children, unknown identities, unborn children, and
lifecycle events on some. Then times, in the same process and alternating runs:

(a) baseline: ``IncidentRecordSchema().load`` of each record (one schema instance);
(b) plan: what ``csins-adapter plan`` does per record: validate the record and its events
    (``load_plan_input``), then ``plan_incident``.

The two alternate in slices of 1 000 records, so that both see the same load on a shared machine;
the ratio is reported on wall clock and on CPU time, and medians over the runs.

Usage: ``.venv/bin/python bench/plan.py [--count 100000] [--runs 3] [--seed 2026]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from adapter.deadlines.plan import load_plan_input, plan_incident  # noqa: E402
from adapter.errors import EventRefused  # noqa: E402
from config.settings import Policy, load_settings  # noqa: E402
from schemas.incident import IncidentRecordSchema  # noqa: E402
from tests.support.records import LOCAL_AUTHORITY, NOTIFIER, nature_of  # noqa: E402

FIRST_INCIDENT = dt.date(2021, 1, 1)
INCIDENT_SPAN_DAYS = 6 * 365
CHUNK = 1_000
"""Records per timed slice; validation and planning alternate slice by slice."""

ETHNICITIES = ("WBRI", "WOTH", "MWBC", "APKN", "BAFR", "CHNE", "OOTH", "NOBT")


def _iso(day: dt.date) -> str:
    return day.isoformat()


def _child(rng: random.Random, incident_date: dt.date, adult: bool) -> dict[str, Any]:
    outcome = rng.choices(("died", "seriously_harmed", "not_harmed", "unknown"), (5, 5, 2, 1))[0]
    age = rng.randint(18, 30) if adult else rng.randint(0, 17)
    child: dict[str, Any] = {
        "identity_known": rng.random() > 0.08,
        "outcome": outcome,
        "looked_after": rng.random() < 0.2 and not adult,
        "care_leaver": rng.random() < 0.15,
        "sex": rng.choice(("male", "female", "not_known")),
        "ethnicity": rng.choice(ETHNICITIES),
        "disability": rng.choice(("yes", "no", "not_known")),
        "known_to_agencies": rng.sample(["health", "education", "police", "housing"], 2),
    }
    if child["identity_known"]:
        child["forenames"], child["surname"] = "Sam", "Example"
        child["local_id"] = f"MOS-{rng.randint(100000, 999999)}"
        shape = rng.random()
        if shape < 0.7:
            born = incident_date - dt.timedelta(days=age * 365 + rng.randint(0, 364))
            child["date_of_birth"] = _iso(born)
        elif shape < 0.95 or adult:
            child["age_years"] = age
        else:
            child["unborn"] = True
    elif rng.random() < 0.5:
        child["age_years"] = age
    if outcome == "died":
        child["date_of_death"] = _iso(incident_date + dt.timedelta(days=rng.randint(0, 3)))
    if rng.random() < 0.3:
        child["child_protection_plan"] = {
            "active": True,
            "category": rng.choice(("NEG", "PHY")),
            "start_date": _iso(incident_date - dt.timedelta(days=90)),
        }
    return child


def _events(rng: random.Random, aware: dt.date) -> list[dict[str, Any]]:
    """A sound lifecycle of some length for a serious incident."""
    events: list[dict[str, Any]] = []
    day = aware + dt.timedelta(days=rng.randint(5, 20))
    events.append({"type": "rapid_review_completed", "on": _iso(day)})
    if rng.random() < 0.5:
        return events
    decision = rng.choice(
        ("local_review", "local_review", "no_review", "national_review_recommended")
    )
    day += dt.timedelta(days=rng.randint(0, 10))
    events.append(
        {"type": "lcspr_decided", "on": _iso(day), "decision": decision, "reviewer": "J. Reviewer"}
    )
    if rng.random() < 0.5:
        events.append(
            {
                "type": "panel_response_received",
                "on": _iso(day + dt.timedelta(days=rng.randint(1, 20))),
            }
        )
    if decision == "local_review" and rng.random() < 0.6:
        set_on = day + dt.timedelta(days=rng.randint(60, 150))
        publish = set_on + dt.timedelta(days=rng.randint(20, 90))
        events.append(
            {
                "type": "publication_scheduled",
                "on": _iso(set_on),
                "publication_date": _iso(publish),
                "mode": rng.choice(("full_report", "improvements_only")),
            }
        )
        if rng.random() < 0.5:
            events.append(
                {"type": "published", "on": _iso(publish), "url": "https://example.org/review"}
            )
    rng.shuffle(events)  # replayed by date whatever the order given
    return events


def make_incident(rng: random.Random, number: int) -> dict[str, Any]:
    """One varied, valid incident record, sometimes with events."""
    incident_date = FIRST_INCIDENT + dt.timedelta(days=rng.randint(0, INCIDENT_SPAN_DAYS))
    historical = rng.random() < 0.1
    aware = incident_date + dt.timedelta(days=rng.randint(0, 10))
    if historical:
        incident_date = aware - dt.timedelta(days=365 * rng.randint(1, 12))
    young_adult = historical and rng.random() < 0.6
    children = [
        _child(rng, incident_date, adult=young_adult and index == 0)
        for index in range(rng.choices((1, 2, 3, 4), (70, 20, 7, 3))[0])
    ]
    nature = nature_of(child["outcome"] for child in children)
    abuse = rng.choices(("known", "suspected", "not_known_or_suspected"), (3, 5, 2))[0]
    record: dict[str, Any] = {
        "schema_version": "1",
        "local_authority": dict(LOCAL_AUTHORITY),
        "notifier": dict(NOTIFIER),
        "incident": {
            "reference": f"NEL-{number:06d}",
            "nature": nature,
            "other_rationale": "wider risk to other children" if nature == "other" else None,
            "abuse_or_neglect": abuse,
            "date": _iso(incident_date),
            "time": "14:30",
            "became_aware_on": _iso(aware),
            "location": {
                "description": "family home",
                "postcode": "DN31 1HU",
                "in_la_area": True,
                "outside_england_normally_resident": False,
            },
            "setting": rng.choice(("home", "school", "foster_placement", "hospital")),
            "suicide": nature == "death" and rng.random() < 0.05,
            "historical_harm": historical,
            "wider_risk_to_other_children": rng.random() < 0.1,
            "parallel_processes": ["criminal_investigation"] if rng.random() < 0.4 else [],
            "summary": "free-text case outline",
        },
        "children": children,
        "source": {"system": "json"},
    }
    if young_adult and abuse != "not_known_or_suspected" and rng.random() < 0.5:
        record["events"] = [
            {
                "type": "panel_consulted",
                "on": _iso(aware + dt.timedelta(days=rng.randint(1, 15))),
                "outcome": rng.choice(("notify", "do_not_notify")),
            }
        ]
    elif (
        not historical
        and abuse != "not_known_or_suspected"
        and rng.random() < 0.5
        and children[0]["outcome"] in ("died", "seriously_harmed")
        and "age_years" not in children[0]
        and children[0].get("identity_known")
    ):
        record["events"] = _events(rng, aware)
    return record


@dataclass
class _Run:
    """Seconds spent by one run, wall clock and CPU, for each side, and the plans refused."""

    validate_wall: float = 0.0
    validate_cpu: float = 0.0
    plan_wall: float = 0.0
    plan_cpu: float = 0.0
    refused: int = 0


def _timed(work: Callable[[], None]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return time.perf_counter() - wall, time.process_time() - cpu


def _corpus(count: int, seed: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``count`` generated records, and the same without their events (what validation loads)."""
    rng = random.Random(seed)
    records = [make_incident(rng, number) for number in range(count)]
    bodies = [{k: v for k, v in record.items() if k != "events"} for record in records]
    return records, bodies


def _measure(
    records: list[dict[str, Any]],
    bodies: list[dict[str, Any]],
    schema: IncidentRecordSchema,
    policy: Policy,
) -> _Run:
    """One run over every record: validation alone and planning, alternating slice by slice."""
    run = _Run()

    def validate_only(chunk: range) -> None:
        for index in chunk:
            schema.load(bodies[index])

    def plan_each(chunk: range) -> None:
        for index in chunk:
            record, events = load_plan_input(records[index])
            try:
                plan_incident(record, events, policy)
            except EventRefused:
                run.refused += 1

    # Interleave chunks so that both sides see the same machine load (a shared 2-core box).
    for start in range(0, len(records), CHUNK):
        chunk = range(start, min(start + CHUNK, len(records)))
        wall, cpu = _timed(partial(validate_only, chunk))
        run.validate_wall += wall
        run.validate_cpu += cpu
        wall, cpu = _timed(partial(plan_each, chunk))
        run.plan_wall += wall
        run.plan_cpu += cpu
    return run


def _report(count: int, runs: list[_Run]) -> None:
    """The medians over the runs, the ratio against the target, and the last run's refusals."""
    validate_rate = statistics.median(count / run.validate_wall for run in runs)
    plan_rate = statistics.median(count / run.plan_wall for run in runs)
    wall_ratio = statistics.median(run.plan_wall / run.validate_wall for run in runs)
    cpu_ratio = statistics.median(run.plan_cpu / run.validate_cpu for run in runs)
    print(
        f"median of {len(runs)} runs: validate only {validate_rate:,.0f} incidents/s; "
        f"plan (validate record and events + plan_incident) {plan_rate:,.0f} incidents/s"
    )
    print(
        f"plan costs {wall_ratio:.2f}x validation wall clock ({cpu_ratio:.2f}x CPU), "
        f"target <= 2.00: {'met' if wall_ratio <= 2 else 'NOT met'}; "
        f"{runs[-1].refused} plans refused an event"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    options = parser.parse_args()

    records, bodies = _corpus(options.count, options.seed)
    policy = load_settings().policy
    schema = IncidentRecordSchema()
    gc.collect()
    gc.freeze()  # the generated corpus is static: keep the collector from rescanning it

    with_events = sum(1 for record in records if record.get("events"))
    children = sum(len(record["children"]) for record in records)
    print(f"{options.count} incidents, {children} children, {with_events} with events")
    plan_incident(*load_plan_input(records[0]), policy)  # build the calendar outside the timing
    runs: list[_Run] = []
    for number in range(1, options.runs + 1):
        run = _measure(records, bodies, schema, policy)
        runs.append(run)
        print(
            f"run {number}: validate {options.count / run.validate_wall:,.0f}/s, "
            f"plan {options.count / run.plan_wall:,.0f}/s, "
            f"ratio {run.plan_wall / run.validate_wall:.2f} wall, "
            f"{run.plan_cpu / run.validate_cpu:.2f} CPU"
        )
    _report(options.count, runs)


if __name__ == "__main__":
    main()
