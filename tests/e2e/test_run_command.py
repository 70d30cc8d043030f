"""``csins-adapter run``: one command brings up web, worker, scheduler, sandbox receiver and a
local Redis (none configured, none answering), delivers the sample record end to end, and stops
every process it started on SIGINT."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from adapter.queue import local_redis
from tests.support.service import sample_record

START_SECONDS = 60.0
"""Longest the whole service may take to answer /readyz, or a delivery to be acknowledged."""

T = TypeVar("T")


def _descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (from /proc; Linux only)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rpartition(")")[2].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found: set[int] = set()
    pending = [pid]
    while pending:
        for child in children.get(pending.pop(), []):
            if child not in found:
                found.add(child)
                pending.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait(
    condition: Callable[[], T | None], what: str, process: subprocess.Popen[bytes], log: Path
) -> T:
    deadline = time.monotonic() + START_SECONDS
    while True:
        found = condition()
        if found:
            return found
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}:\n{log.read_text(errors='replace')[-4000:]}")
        time.sleep(0.2)


def _wait_ready(http: httpx.Client, what: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Wait until the web process ``run`` started answers 200 on /readyz."""

    def ready() -> bool:
        try:
            return http.get("/readyz").status_code == 200
        except httpx.TransportError:
            return False

    _wait(ready, what, process, log)


def _local_authority_headers(run_env: dict[str, str]) -> dict[str, str]:
    """Headers bearing a new local authority key for LA 812, made with ``keys create``."""
    created = subprocess.run(
        [sys.executable, "-m", "adapter.cli", "keys", "create",
         "--la", "812", "--role", "local_authority"],
        env=run_env, capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    key = created.stdout.strip().splitlines()[-1]
    return {"Authorization": f"Bearer {key}"}


def _own_redis_url(tmp_path: Path, port: int) -> str:
    """The URL of the Redis ``run`` started, with the password it keeps in the data dir."""
    password = (tmp_path / "var" / "redis" / "password").read_text().strip()
    return local_redis.url_for(port, password)


@pytest.fixture
def run_env(tmp_path: Path) -> dict[str, str]:
    """No REDIS_URL, no DATABASE_URL, no CSINS_* but the data dir: the embedded defaults."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("CSINS_") and k not in ("REDIS_URL", "DATABASE_URL")
    }
    env["CSINS_DATA_DIR"] = str(tmp_path / "var")
    env["PYTHONUNBUFFERED"] = "1"
    return env


@pytest.fixture
def running(run_env: dict[str, str], tmp_path: Path) -> Iterator[tuple[Any, ...]]:
    web, sandbox, redis = (local_redis.free_port() for _ in range(3))
    assert not local_redis.answers(f"redis://127.0.0.1:{redis}/0")
    log = tmp_path / "run.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [
                sys.executable, "-m", "adapter.cli", "run",
                "--port", str(web), "--sandbox-port", str(sandbox), "--redis-port", str(redis),
            ],
            env=run_env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        yield process, log, web, sandbox, redis
    finally:
        if process.poll() is None:  # the test failed half-way: leave nothing behind
            os.killpg(process.pid, signal.SIGKILL)
            for pid in _descendants(process.pid):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pid, signal.SIGKILL)
            process.wait()


@pytest.mark.slow
def test_run_brings_up_the_whole_service_and_stops_it(
    running: tuple[Any, ...], run_env: dict[str, str], tmp_path: Path
) -> None:
    process, log, web, sandbox, redis = running
    base = f"http://127.0.0.1:{web}"
    with httpx.Client(base_url=base, timeout=5.0, trust_env=False) as http:
        _wait_ready(http, "/readyz", process, log)
        redis_url = _own_redis_url(tmp_path, redis)
        assert local_redis.answers(redis_url)  # the Redis run started
        headers = _local_authority_headers(run_env)

        response = http.post("/api/v1/incidents", json=sample_record(), headers=headers)
        assert response.status_code == 201, response.text
        incident = response.json()["id"]

        def acknowledged() -> list[dict[str, Any]] | None:
            items: list[dict[str, Any]] = http.get(
                "/api/v1/deliveries", params={"incident": incident}, headers=headers
            ).json()["items"]
            return items if items and all(i["status"] == "acknowledged" for i in items) else None

        items = _wait(acknowledged, "the delivery to be acknowledged", process, log)
        assert [item["addressee"] for item in items] == ["panel"]
        stats = httpx.get(f"http://127.0.0.1:{sandbox}/_sandbox/stats", trust_env=False).json()
        assert stats["addressees"]["panel"]["ids"] == [items[0]["id"]]

    # Append-only persistence of the local Redis, under the data dir.
    redis_dir = tmp_path / "var" / "redis"
    assert any(path.name.startswith("appendonly") for path in redis_dir.iterdir())

    children = _descendants(process.pid)
    assert len(children) >= 6  # redis, sandbox, worker (+ its scheduler), scheduler, web (+ its)
    process.send_signal(signal.SIGINT)
    try:
        assert process.wait(timeout=START_SECONDS) == 0, log.read_text(errors="replace")
    except subprocess.TimeoutExpired:
        pytest.fail(f"run did not stop on SIGINT:\n{log.read_text(errors='replace')[-4000:]}")
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in children if _alive(pid)], "children outlived run"
    assert not local_redis.answers(redis_url)


@pytest.mark.slow
def test_run_starts_its_own_redis_even_when_one_answers_and_holds_its_data_dir(
    run_env: dict[str, str], tmp_path: Path
) -> None:
    """DESIGN.md §2: 'a local Redis it starts itself', with append-only persistence under var/:
    not whatever answers on 6379 (another program's, perhaps keeping nothing on disk, whose
    queues another deployment's workers would take). A second run on the same data dir, which
    would share that append-only file and the SQLite database, is refused."""
    web, sandbox = local_redis.free_port(), local_redis.free_port()
    log = tmp_path / "run.log"
    command = [sys.executable, "-m", "adapter.cli", "run", "--no-sandbox"]
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [*command, "--port", str(web), "--sandbox-port", str(sandbox)],
            env=run_env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        banner = _wait(
            lambda: re.search(r"redis: redis://:\*\*\*@127\.0\.0\.1:(\d+)/0", log.read_text()),
            "the banner",
            process,
            log,
        )
        port = int(banner.group(1))
        assert port != 6379 and local_redis.answers(_own_redis_url(tmp_path, port))
        redis_dir = tmp_path / "var" / "redis"
        assert any(path.name.startswith("appendonly") for path in redis_dir.iterdir())

        second = subprocess.run(
            [*command, "--port", str(local_redis.free_port())],
            env=run_env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert second.returncode != 0
        assert "another csins-adapter run is using" in second.stderr
        assert process.poll() is None  # the first one runs on
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=START_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert not local_redis.answers(_own_redis_url(tmp_path, port))


def _redis_pids(root: int, port: int) -> list[int]:
    """The Redis server processes below ``root`` listening on ``port`` (by command line)."""
    found = []
    for pid in _descendants(root):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        # The server retitles itself "valkey-server 127.0.0.1:PORT" (or redis-server ...).
        server = b"redis-server" in command or b"valkey-server" in command
        if server and f":{port}".encode() in command:
            found.append(pid)
    return [pid for pid in found if _alive(pid)]


@pytest.mark.slow
def test_run_restarts_its_redis_after_kill_9_and_deliveries_resume(
    running: tuple[Any, ...], run_env: dict[str, str], tmp_path: Path
) -> None:
    """Issue 19 items 4 and 8: the Redis run started is killed (-9); run starts it again on the
    same port with its append-only data and password, and deliveries go on. The password is
    generated, kept in the data dir (0600), and required."""
    process, log, web, _sandbox, redis = running
    password_file = tmp_path / "var" / "redis" / "password"
    base = f"http://127.0.0.1:{web}"
    with httpx.Client(base_url=base, timeout=5.0, trust_env=False) as http:
        _wait_ready(http, "/readyz", process, log)
        assert (password_file.stat().st_mode & 0o777) == 0o600
        password = password_file.read_text().strip()
        assert len(password) >= 32
        assert not local_redis.answers(f"redis://127.0.0.1:{redis}/0")  # no password: refused
        with_password = _own_redis_url(tmp_path, redis)
        assert local_redis.answers(with_password)
        assert password not in log.read_text()  # the banner masks it

        (first,) = _redis_pids(process.pid, redis)
        os.kill(first, signal.SIGKILL)
        restarted = _wait(
            lambda: (
                [p for p in _redis_pids(process.pid, redis) if p != first]
                and local_redis.answers(with_password)
            ),
            "run to start its Redis again",
            process,
            log,
        )
        assert restarted
        assert "restarting it on port" in log.read_text()

        headers = _local_authority_headers(run_env)
        response = http.post("/api/v1/incidents", json=sample_record(), headers=headers)
        assert response.status_code == 201, response.text
        incident = response.json()["id"]

        def acknowledged() -> bool:
            items = http.get(
                "/api/v1/deliveries", params={"incident": incident}, headers=headers
            ).json()["items"]
            return bool(items) and all(i["status"] == "acknowledged" for i in items)

        _wait(acknowledged, "the delivery after the Redis restart", process, log)
        _wait_ready(http, "/readyz after the Redis restart", process, log)

    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=START_SECONDS) == 0, log.read_text(errors="replace")[-4000:]
    assert not local_redis.answers(with_password)
