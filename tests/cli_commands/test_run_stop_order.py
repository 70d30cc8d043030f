"""``run`` stops the service before the sandbox receiver, and the receiver before Redis
(issue 19 item 4): a worker finishing its delivery on SIGTERM still reaches the receiver."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from adapter.cli.run import shut_down

CHILD = """
import signal, sys, time
name, record, linger = sys.argv[1], sys.argv[2], float(sys.argv[3])
def stop(*_):
    with open(record, "a") as out:
        out.write(f"{time.monotonic()} {name} asked\\n")
    time.sleep(linger)  # a worker finishing the delivery it is sending
    with open(record, "a") as out:
        out.write(f"{time.monotonic()} {name} gone\\n")
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
open(record + "." + name, "w").close()
while True:
    time.sleep(0.05)
"""


def _child(tmp_path: Path, name: str, linger: float) -> subprocess.Popen[bytes]:
    record = tmp_path / "record"
    process = subprocess.Popen(
        [sys.executable, "-c", CHILD, name, str(record), str(linger)], process_group=0
    )
    ready = Path(f"{record}.{name}")
    while not ready.exists():
        assert process.poll() is None
    return process


def test_the_receiver_is_asked_to_stop_only_once_the_workers_are_gone(tmp_path: Path) -> None:
    worker = _child(tmp_path, "worker", 1.0)
    receiver = _child(tmp_path, "receiver", 0.0)
    redis = _child(tmp_path, "redis", 0.0)
    shut_down([worker], [receiver], redis)
    events = [line.split(" ", 1)[1] for line in (tmp_path / "record").read_text().splitlines()]
    assert events == [
        "worker asked", "worker gone", "receiver asked", "receiver gone", "redis asked",
        "redis gone",
    ]  # fmt: skip
