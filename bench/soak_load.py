"""The soak's clients (``bench/soak.py``): case systems submitting incidents and reading them.

Each client is a thread with one keep-alive connection that picks its next request from
:data:`MIX`, sends it, then waits a random think time (exponential, mean ``think`` seconds):

- ``submit``: a new incident under a reference never used before (201 expected);
- ``resubmit``: the same record again under a reference some client had accepted (200);
- ``race``: a new record posted twice at once on two connections (one 201 and one 200);
- ``incident``, ``deadlines``, ``deliveries``, ``incident_deliveries``: the reads a case system
  makes (``GET /incidents/{id}``, the first page of ``/deadlines`` and of ``/deliveries``, the
  deliveries of one incident). The API has no list of incidents: its lists are these.

Records are the sample record (``tests/samples/incident.json``) with every date moved by the
days between the suite's "today" and the real one (the service runs in other processes, on the
real clock); every fourth is a looked-after child's death, owed to three addressees, not one.
Nothing of a request is kept but its status count and its latency's bucket (and the first few
unexpected answers), so memory grows only with the number of references.
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import json
import math
import random
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "tests" / "samples" / "incident.json"

SAMPLE_TODAY = dt.date(2026, 11, 27)
"""The day the sample record is written for (``tests/support/clock.py``'s ``TODAY``)."""

MIX = {
    "submit": 30,
    "resubmit": 4,
    "race": 1,
    "incident": 25,
    "deadlines": 15,
    "deliveries": 15,
    "incident_deliveries": 10,
}
"""Relative weight of each kind of request a client makes."""

EXPECTED = {"submit": {201}, "resubmit": {200}, "race": {200, 201}}
"""The statuses each kind must answer (every read: 200)."""

KNOWN_KEPT = 5000
"""How many recently accepted incidents the clients pick resubmissions and reads from."""

SAMPLES_KEPT = 20
"""How many unexpected answers each client keeps (status, kind, start of the body)."""

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _shift_dates(value: Any, days: dt.timedelta) -> Any:
    """``value`` (a JSON document) with every ISO date in it moved by ``days``."""
    if isinstance(value, dict):
        return {key: _shift_dates(item, days) for key, item in value.items()}
    if isinstance(value, list):
        return [_shift_dates(item, days) for item in value]
    if isinstance(value, str) and _DATE.match(value):
        return (dt.date.fromisoformat(value) + days).isoformat()
    return value


class Records:
    """Valid incident records for today, each under its own reference; the same reference
    always gives the same bytes (a resubmission is identical)."""

    def __init__(self, run: str, today: dt.date) -> None:
        sample = json.loads(SAMPLE.read_text(encoding="utf-8"))
        record = _shift_dates(sample, today - SAMPLE_TODAY)
        record["incident"]["reference"] = "@REFERENCE@"
        looked_after = copy.deepcopy(record)
        looked_after["children"][0]["looked_after"] = True
        self._templates = (json.dumps(looked_after), json.dumps(record))
        self._run = run
        self._numbers = itertools.count(1)  # next() on it is atomic under the GIL

    def new_reference(self) -> str:
        return f"SOAK-{self._run}-{next(self._numbers)}"

    def body(self, reference: str) -> bytes:
        number = int(reference.rsplit("-", 1)[1])
        template = self._templates[0 if number % 4 == 0 else 1]
        return template.replace("@REFERENCE@", reference).encode()


class Histogram:
    """Latencies in buckets 1 % wide: a percentile to within 1 % in bounded memory."""

    STEP = math.log(1.01)

    def __init__(self) -> None:
        self.buckets: Counter[int] = Counter()
        self.count = 0

    def add(self, milliseconds: float) -> None:
        self.buckets[math.floor(math.log(max(milliseconds, 0.01)) / self.STEP)] += 1
        self.count += 1

    def merge(self, other: Histogram) -> None:
        self.buckets.update(other.buckets)
        self.count += other.count

    def percentile(self, fraction: float) -> float:
        """The nearest-rank percentile, in milliseconds (the bucket's middle)."""
        if not self.count:
            return math.nan
        rank, seen = max(1, math.ceil(fraction * self.count)), 0
        for bucket in sorted(self.buckets):
            seen += self.buckets[bucket]
            if seen >= rank:
                return math.exp((bucket + 0.5) * self.STEP)
        return math.nan


@dataclass
class Tally:
    """What clients saw: statuses and latencies per kind, and the references the service took."""

    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    latencies: dict[str, Histogram] = field(default_factory=dict)
    created: Counter[str] = field(default_factory=Counter)
    """Per reference, how many submissions of it were answered 201."""
    accepted: set[str] = field(default_factory=set)
    """References some submission of which was answered 201 or 200."""
    samples: list[str] = field(default_factory=list)
    done: int = 0
    """Requests answered or failed so far (read while the client runs)."""
    failed: int = 0
    """Of which 5xx or no answer (read while the client runs)."""

    def record(self, kind: str, status: int, milliseconds: float, detail: str = "") -> None:
        self.statuses[kind, status] += 1
        self.done += 1
        self.failed += status >= 500 or status == 0
        self.latencies.setdefault(kind, Histogram()).add(milliseconds)
        if status not in EXPECTED.get(kind, {200}) and len(self.samples) < SAMPLES_KEPT:
            self.samples.append(f"{kind} {status}: {detail[:300]}")

    def merge(self, other: Tally) -> None:
        self.statuses.update(other.statuses)
        for kind, histogram in other.latencies.items():
            self.latencies.setdefault(kind, Histogram()).merge(histogram)
        self.created.update(other.created)
        self.accepted |= other.accepted
        self.samples += other.samples[: max(0, SAMPLES_KEPT - len(self.samples))]
        self.done += other.done
        self.failed += other.failed

    def requests(self) -> int:
        return sum(self.statuses.values())

    def server_errors(self) -> int:
        """5xx answers, and requests that got no answer at all (status 0)."""
        return sum(n for (_, status), n in self.statuses.items() if status >= 500 or status == 0)

    def unexpected(self) -> int:
        return sum(
            n
            for (kind, status), n in self.statuses.items()
            if status not in EXPECTED.get(kind, {200})
        )


class Known:
    """The last :data:`KNOWN_KEPT` accepted incidents, ``(reference, id)``, shared by clients."""

    def __init__(self) -> None:
        self._items: deque[tuple[str, str]] = deque(maxlen=KNOWN_KEPT)
        self._lock = threading.Lock()

    def add(self, reference: str, incident_id: str) -> None:
        with self._lock:
            self._items.append((reference, incident_id))

    def pick(self, rng: random.Random) -> tuple[str, str] | None:
        with self._lock:
            return rng.choice(self._items) if self._items else None


Answer = tuple[int, float, str, Any]
"""Status (0: no answer), milliseconds, a short detail, and the JSON body of a 2xx."""


def _send(http: httpx.Client, method: str, path: str, body: bytes | None = None) -> Answer:
    began = time.perf_counter()
    try:
        response = http.request(method, path, content=body)
    except httpx.HTTPError as error:
        return 0, (time.perf_counter() - began) * 1000, repr(error), None
    elapsed = (time.perf_counter() - began) * 1000
    if response.is_success:
        return response.status_code, elapsed, "", response.json()
    return response.status_code, elapsed, response.text, None


@dataclass
class Client:
    """One case system: a connection, its own tally and random stream, the shared stores."""

    http: httpx.Client
    records: Records
    known: Known
    rng: random.Random
    tally: Tally = field(default_factory=Tally)
    last: float = field(default_factory=time.perf_counter)
    """When this client's last request ended."""
    idle: float = 0.0
    """How long the client had sent nothing before its current request (said with a request
    that got no answer: a connection closed by the server while idle is the usual cause)."""

    def step(self) -> None:
        self.idle = time.perf_counter() - self.last
        try:
            self._step()
        finally:
            self.last = time.perf_counter()

    def _step(self) -> None:
        kind = self.rng.choices(list(MIX), weights=list(MIX.values()))[0]
        picked = self.known.pick(self.rng)
        if picked is None and kind not in ("submit", "race", "deadlines", "deliveries"):
            kind = "submit"
        actions: dict[str, Callable[[], None]] = {
            "submit": lambda: self._submit("submit", self.records.new_reference()),
            "resubmit": lambda: self._submit("resubmit", picked[0] if picked else ""),
            "race": self._race,
            "incident": lambda: self._read("incident", f"/incidents/{picked and picked[1]}"),
            "deadlines": lambda: self._read("deadlines", self._deadlines_path()),
            "deliveries": lambda: self._read("deliveries", self._deliveries_path()),
            "incident_deliveries": lambda: self._read(
                "incident_deliveries", f"/deliveries?incident={picked and picked[1]}"
            ),
        }
        actions[kind]()

    def _deadlines_path(self) -> str:
        status = self.rng.choice(("", "&status=pending", "&status=met"))
        return f"/deadlines?limit=50{status}"

    def _deliveries_path(self) -> str:
        status = self.rng.choice(("", "&status=queued", "&status=acknowledged"))
        return f"/deliveries?limit=50{status}"

    def _read(self, kind: str, path: str) -> None:
        status, milliseconds, detail, _ = _send(self.http, "GET", path)
        self.tally.record(kind, status, milliseconds, self._detail(status, detail))

    def _submit(self, kind: str, reference: str) -> None:
        self._note(kind, reference, _send(self.http, "POST", "/incidents", self._body(reference)))

    def _race(self) -> None:
        """The same new record posted twice at once (a case system retrying too early)."""
        reference = self.records.new_reference()
        body = self._body(reference)
        answers: list[Answer] = []
        other = threading.Thread(
            target=lambda: answers.append(_send(self.http, "POST", "/incidents", body))
        )
        other.start()
        mine = _send(self.http, "POST", "/incidents", body)
        other.join()
        for answer in (mine, *answers):
            self._note("race", reference, answer)

    def _detail(self, status: int, detail: str) -> str:
        return f"{detail} after {self.idle:.2f} s idle" if status == 0 else detail

    def _body(self, reference: str) -> bytes:
        return self.records.body(reference)

    def _note(self, kind: str, reference: str, answer: Answer) -> None:
        status, milliseconds, detail, document = answer
        self.tally.record(kind, status, milliseconds, self._detail(status, detail))
        if status in (200, 201):
            self.tally.accepted.add(reference)
            self.known.add(reference, document["id"])
        if status == 201:
            self.tally.created[reference] += 1


def run_clients(
    base_url: str,
    key: str,
    records: Records,
    count: int,
    think: float,
    stop: threading.Event,
) -> Iterator[Client]:
    """Start ``count`` client threads (each until ``stop`` is set); yields each client as it
    starts, so the caller can read their tallies while they run. Joined by :func:`join`."""
    known = Known()
    for number in range(count):
        http = httpx.Client(
            base_url=f"{base_url}/api/v1",
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
            timeout=60,
        )
        client = Client(http, records, known, random.Random(number))
        thread = threading.Thread(
            target=_loop, args=(client, think, stop), name=f"soak-client-{number}", daemon=True
        )
        thread.start()
        yield client


def _loop(client: Client, think: float, stop: threading.Event) -> None:
    with client.http:
        while not stop.is_set():
            client.step()
            stop.wait(client.rng.expovariate(1 / think) if think > 0 else 0)


def join(stop: threading.Event, timeout: float) -> bool:
    """Set ``stop`` and wait up to ``timeout`` seconds for every client thread to end."""
    stop.set()
    give_up = time.monotonic() + timeout
    for thread in threading.enumerate():
        if thread.name.startswith("soak-client-"):
            thread.join(max(0.0, give_up - time.monotonic()))
    return not any(t.name.startswith("soak-client-") for t in threading.enumerate())
