"""Benchmark of ``csins-adapter convert`` against a plain CSV → JSON baseline (DESIGN.md §3.1).

Run ``.venv/bin/python bench/convert.py [--rows 100000] [--small 10000] [--runs 3]``. For each
system it writes a realistic export (one row per child per incident, 1-4 children, varied values,
a few quirks and bad rows) into a temporary folder, then times

- the baseline: ``csv.DictReader`` over the file and ``json.dumps`` of each row to a file;
- the conversion: the real CLI in a subprocess, so its peak memory (``ru_maxrss`` from
  ``os.wait4``) is its own; measured at 10 000 rows and at the full size.

It prints rows/s for both (medians of ``--runs``, the two alternating), their ratio by CPU time
and by wall-clock time (CPU time is the steadier on a shared machine), the same without the
CLI's start-up (``convert --help``), and peak memory at 10k and at the full size. Targets:
conversion at least 1/3 of the baseline's rows/s; peak memory at 100k within 20 MB of that at
10k (memory must not grow with the file's length).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

HEADERS = {
    "liquidlogic": [
        "LA_CODE", "INCIDENT_REF", "INCIDENT_DTTM", "LA_AWARE_DTTM", "INCIDENT_TYPE_DESC",
        "OTHER_RATIONALE", "ABUSE_NEGLECT_DESC", "INCIDENT_SETTING_DESC", "INCIDENT_POSTCODE",
        "SUICIDE_FLAG", "HISTORICAL_HARM_FLAG", "CASE_OUTLINE", "NOTIFIER_NAME", "NOTIFIER_ROLE",
        "NOTIFIER_EMAIL", "NOTIFIER_PHONE", "DIM_PERSON_ID", "FORENAME", "SURNAME", "BIRTH_DTTM",
        "DOB_ESTIMATED", "GENDER_MAIN_CODE", "ETHNICITY_MAIN_CODE", "UPN", "NHS_NUMBER",
        "HARM_OUTCOME_DESC", "DEATH_DTTM", "DIM_LOOKUP_DISAB_CODE", "CP_START_DTTM", "CP_END_DTTM",
        "CP_CATEGORY_DESC", "CIN_PLAN_START_DTTM", "CIN_PLAN_END_DTTM", "CARE_START_DATE",
        "CARE_END_DATE", "DIM_LOOKUP_PLACEMENT_TYPE_CODE", "DIM_LOOKUP_ELIGIBILITY_STATUS_DESC",
    ],
    "mosaic": [
        "LA_CODE", "INCIDENT_REFERENCE", "DATE_OF_INCIDENT", "DATE_LA_BECAME_AWARE",
        "NOTIFICATION_TYPE", "OTHER_RATIONALE", "ABUSE_OR_NEGLECT", "INCIDENT_SETTING",
        "INCIDENT_POST_CODE", "SUICIDE", "HISTORICAL_HARM", "CASE_SUMMARY", "NOTIFIER_NAME",
        "NOTIFIER_ROLE", "NOTIFIER_EMAIL", "NOTIFIER_PHONE", "PERSON_ID", "FIRST_NAMES",
        "LAST_NAME", "DATE_OF_BIRTH", "AGE_ESTIMATED", "GENDER", "FULL_ETHNICITY_CODE", "UPN_ID",
        "NHS_ID", "OUTCOME", "DATE_OF_DEATH", "CIN_DISABILITY_CATEGORY_CODE",
        "REGISTRATION_START_DATE", "DEREGISTRATION_DATE", "CIN_ABUSE_CATEGORY_CODE",
        "CIN_PLAN_START_DATE", "CIN_PLAN_END_DATE", "CLA_START_DATE", "CLA_END_DATE",
        "PLACEMENT_TYPE", "CARE_LEAVER_ELIGIBILITY",
    ],
}  # fmt: skip
ENCODINGS = {"liquidlogic": "utf-8", "mosaic": "cp1252"}
"""Liquidlogic warehouse exports in UTF-8; the Mosaic one is a Windows-1252 CSV from Excel."""

FORENAMES = [
    "Ava", "Leo", "Mia", "Noah", "Zoë", "Siân", "José", "Chloé", "Amara", "Oliver", "Isla",
    "Mohammed", "Freya", "Kai", "Ella", "Reuben", "Niamh", "Aarav", "Lily",
]  # fmt: skip
SURNAMES = [
    "Turner", "Harris", "Clarke", "Patel", "Wright", "O'Brien", "Nowak", "Okafor", "Smith",
    "Jones", "Khan", "Brown", "Williams", "Taylor", "Davies", "Evans",
]  # fmt: skip
ETHNICITIES = [
    "WBRI", "WBRI", "WBRI", "WIRI", "WOTH", "MWBC", "MWBA", "AIND", "APKN", "ABAN", "BAFR",
    "BCRB", "CHNE", "OOTH", "REFU", "NOBT",
]  # fmt: skip
SETTINGS = [
    "Home", "Home", "Home", "Family home", "School", "Foster placement", "Hospital",
    "Residential children's home", "Secure children's home", "Other", "Police custody",
]  # fmt: skip
DISABILITY = ["NONE", "NONE", "NONE", "NONE", "LD", "AUT", "COMM", "BEH", "HEAR", "MOB"]
CP_CATEGORY = {
    "liquidlogic": ["Neglect", "Physical abuse", "Emotional abuse", "Sexual abuse", "Multiple"],
    "mosaic": ["NEG", "PHY", "EMO", "SAB", "MUL"],
}
OUTLINES = [
    "Infant found unresponsive at home; concerns about neglect.",
    'Child admitted to hospital with injuries; parent said "a fall", which did not fit.',
    "Young person died; history of exploitation, missing episodes and school exclusion.",
    "Sibling group; concerns raised by school, health visitor and police.",
]


def _nhs_number(rng: random.Random) -> str:
    """A 10-digit NHS number with a valid modulus 11 check digit."""
    while True:
        digits = [rng.randint(0, 9) for _ in range(9)]
        check = 11 - sum(d * w for d, w in zip(digits, range(10, 1, -1), strict=True)) % 11
        check = 0 if check == 11 else check
        if check != 10:
            return "".join(map(str, digits)) + str(check)


def _postcode(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.03:
        return "XXXX XXX"
    if roll < 0.04:
        return "nopostcode"
    return (
        f"{rng.choice(['DN', 'LS', 'HU', 'S', 'M'])}{rng.randint(1, 40)} "
        f"{rng.randint(1, 9)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}{rng.choice('ABDEFGHJLNPQ')}"
    )


def _rows(system: str, count: int, seed: int) -> Iterator[list[str]]:
    """``count`` rows of a realistic export, grouped by incident (1-4 children each)."""
    rng = random.Random(seed)
    latest = dt.date.today() - dt.timedelta(days=10)
    liquidlogic = system == "liquidlogic"

    def day(value: dt.date | None, time_of_day: str = "00:00") -> str:
        if value is None:
            return ""
        if liquidlogic:
            return f"{value.isoformat()} {time_of_day}:00.000"
        return value.strftime("%d/%m/%Y") if rng.random() < 0.9 else value.isoformat()

    produced, number = 0, 0
    while produced < count:
        number += 1
        reference = f"{'NEL' if liquidlogic else 'MOS'}-{number:07d}"
        on = latest - dt.timedelta(days=rng.randint(0, 900))
        aware = min(on + dt.timedelta(days=rng.randint(0, 5)), latest)
        nature = rng.choices(["Death", "Serious harm", "Other"], [35, 60, 5])[0]
        incident = [
            "812",
            reference,
            day(on, rng.choice(["00:00", "14:30", "08:05"])),
            day(aware),
            nature,
            "Learning for the partnership" if nature == "Other" else "",
            rng.choice(["Known", "Suspected", "Not known or suspected"]),
            rng.choice(SETTINGS),
            _postcode(rng),
            rng.choice(["N", "N", "Y", "No", "0"]),
            rng.choice(["N", "N", "FALSE"]),
            rng.choice(OUTLINES),
            "J. Smith",
            "Head of Safeguarding",
            "j.smith@example-la.gov.uk",
            "01472 000001",
        ]
        children = rng.choices([1, 2, 3, 4], [70, 20, 7, 3])[0]
        for index in range(min(children, count - produced)):
            produced += 1
            yield incident + _child(rng, system, on, nature, index, day)


def _child(
    rng: random.Random,
    system: str,
    on: dt.date,
    nature: str,
    index: int,
    day: Callable[[dt.date | None], str],
) -> list[str]:
    """One child's columns of a row, drawn from ``rng`` in a fixed order (same seed, same file)."""
    liquidlogic = system == "liquidlogic"
    unknown = rng.random() < 0.01
    person = ("-1" if liquidlogic else "") if unknown else str(rng.randint(100000, 9999999))
    born = on - dt.timedelta(days=rng.randint(30, 17 * 365))
    if not liquidlogic and rng.random() < 0.02:
        born = on + dt.timedelta(days=rng.randint(10, 120))  # unborn at the incident
    outcome = _outcome(rng, nature, index)
    ethnicity = rng.choice(ETHNICITIES)
    if not liquidlogic and rng.random() < 0.3:
        ethnicity = "A1" + ethnicity
    cp_start, cp_end, cin_start, cla_start, cla_end = _care_history(rng, on)
    bad = rng.random()
    birth = day(born)
    if bad < 0.001:
        birth = "31/02/2026"  # an impossible date: the row and its incident are rejected
    gender = rng.choice(["M", "F", "F", "M", "U"] + (["I", "unknown"] if liquidlogic else []))
    if bad > 0.999:
        gender = "Q"  # an unknown code
    return [
        person,
        rng.choice(FORENAMES) if not unknown else "",
        rng.choice(SURNAMES) if not unknown else "",
        "" if unknown else birth,
        rng.choice(["N", "N", "N", "Y"]),
        gender,
        ethnicity,
        f"A{rng.randint(10**11, 10**12 - 1)}" if rng.random() < 0.3 else "",
        _nhs_number(rng) if rng.random() < 0.4 else "",
        outcome,
        day(on) if outcome == "Died" else "",
        rng.choice(DISABILITY),
        day(cp_start),
        day(cp_end),
        rng.choice(CP_CATEGORY[system]) if cp_start else "",
        day(cin_start),
        "",
        day(cla_start),
        day(cla_end),
        rng.choice(["K2", "U1", "U4", "R1", "H5"]) if cla_start else "",
        rng.choice(["", "", "Relevant", "Former Relevant"]) if cla_end else "",
    ]


def _outcome(rng: random.Random, nature: str, index: int) -> str:
    """The child's outcome: the first child bears the incident's nature, siblings vary."""
    if nature == "Death":
        return "Died" if index == 0 else rng.choice(["Seriously harmed", "Not harmed"])
    if nature == "Serious harm":
        return "Seriously harmed" if index == 0 else rng.choice(["Seriously harmed", "Not harmed"])
    return rng.choice(["Not harmed", "Unknown"])


def _care_history(rng: random.Random, on: dt.date) -> tuple[dt.date | None, ...]:
    """Child protection plan start and end, CIN plan start, and care start and end before the
    incident ``on`` (``None`` where the child had none)."""
    cp_start = on - dt.timedelta(days=rng.randint(1, 700)) if rng.random() < 0.3 else None
    cp_end = (
        cp_start + dt.timedelta(days=rng.randint(30, 900))
        if cp_start and rng.random() < 0.4
        else None
    )
    cin_start = on - dt.timedelta(days=rng.randint(1, 400)) if rng.random() < 0.3 else None
    cla_start = on - dt.timedelta(days=rng.randint(1, 2000)) if rng.random() < 0.15 else None
    cla_end = (
        cla_start + dt.timedelta(days=rng.randint(30, 3000))
        if cla_start and rng.random() < 0.5
        else None
    )
    return cp_start, cp_end, cin_start, cla_start, cla_end


def generate(system: str, count: int, path: Path, seed: int = 2026) -> Path:
    """Write an export of ``count`` rows for ``system`` to ``path`` (with quirky headers)."""
    headers = list(HEADERS[system])
    headers[3] = f" {headers[3].lower()} "  # case and stray spaces
    with path.open("w", encoding=ENCODINGS[system], newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers)
        writer.writerows(_rows(system, count, seed))
    return path


@dataclass(frozen=True)
class Run:
    """One timed run: wall-clock and CPU seconds, peak RSS (MB, subprocesses only), exit."""

    wall: float
    cpu: float
    peak_mb: float = 0.0
    status: int = 0


def baseline(path: Path, encoding: str, out: Path) -> Run:
    """Read ``path`` with ``csv.DictReader`` and write each row as JSON, in this process."""
    wall, cpu = time.perf_counter(), time.process_time()
    with path.open(encoding=encoding, newline="") as source, out.open("w") as target:
        for row in csv.DictReader(source):
            target.write(json.dumps(row) + "\n")
    return Run(time.perf_counter() - wall, time.process_time() - cpu)


def _cli() -> list[str]:
    script = Path(sys.executable).with_name("csins-adapter")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from adapter.cli import main; main()"]


def cli(*args: str) -> Run:
    """The real CLI in a subprocess; ``os.wait4`` gives its own CPU time and peak RSS."""
    wall = time.perf_counter()
    process = subprocess.Popen(
        [*_cli(), *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return Run(
        time.perf_counter() - wall,
        usage.ru_utime + usage.ru_stime,
        usage.ru_maxrss / 1024,
        process.returncode,
    )


def _median(runs: list[Run], what: str) -> float:
    return float(statistics.median(getattr(run, what) for run in runs))


def bench(system: str, rows: int, small_rows: int, repeats: int, folder: Path) -> None:
    """Time one system; baseline and conversion runs alternate so load on a shared machine
    falls on both alike. CPU seconds are the steadier figure there; wall seconds are shown too."""
    big = generate(system, rows, folder / f"{system}.csv")
    small = generate(system, small_rows, folder / f"{system}-small.csv")
    out, errors = folder / "out.ndjson", folder / "errors.ndjson"
    convert = ("convert", "--out", str(out), "--errors", str(errors))
    small_runs = [cli(*convert[:1], str(small), *convert[1:]) for _ in range(repeats)]
    base_runs, runs, starts = [], [], []
    for _ in range(repeats):
        base_runs.append(baseline(big, ENCODINGS[system], out))
        runs.append(cli(*convert[:1], str(big), *convert[1:]))
        starts.append(cli("convert", "--help"))
    records = sum(1 for _ in out.open())
    problems = sum(1 for _ in errors.open())
    print(
        f"\n{system}: {rows:,} rows, {big.stat().st_size / 1e6:.1f} MB, {ENCODINGS[system]}; "
        f"{records:,} incidents converted, {problems} problems (exit {runs[-1].status})"
    )
    for what in ("cpu", "wall"):
        base, converted, start = (_median(r, what) for r in (base_runs, runs, starts))
        rate, base_rate = rows / converted, rows / base
        print(
            f"  {what:>4}: baseline {base_rate:>7,.0f} rows/s ({base:.2f} s); convert "
            f"{rate:>7,.0f} rows/s ({converted:.2f} s); ratio {rate / base_rate:.2f} "
            f"(target >= 0.33); without the CLI's {start:.2f} s start-up: "
            f"{rows / (converted - start):,.0f} rows/s, ratio "
            f"{rows / (converted - start) / base_rate:.2f}"
        )
    peak_small = max(run.peak_mb for run in small_runs)
    peak_big = max(run.peak_mb for run in runs)
    print(
        f"  peak RSS: {peak_small:.1f} MB at {small_rows:,} rows, {peak_big:.1f} MB at "
        f"{rows:,} rows (+{peak_big - peak_small:.1f} MB; target <= 20)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory(prefix="csins-bench-") as folder:
        for system in HEADERS:
            bench(system, options.rows, options.small, options.runs, Path(folder))


if __name__ == "__main__":
    main()
