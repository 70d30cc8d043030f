"""``csins-adapter run``: the whole service on one machine (web, worker, scheduler, sandbox).

With no configuration it uses SQLite under ``CSINS_DATA_DIR`` and a Redis it starts itself
(DESIGN.md §2), on a free port of 127.0.0.1, with append-only persistence and a generated
password under ``{CSINS_DATA_DIR}/redis`` (restarted on the same port if it dies): never a
server some other program runs, whose queues another deployment's workers would empty and which
may keep nothing on disk. ``REDIS_URL`` names another
Redis; ``--redis-port`` asks for the port (a Redis already answering there is then used). One
``run`` at a time holds a data dir (``{CSINS_DATA_DIR}/run.lock``): two would share the append-only
file and the SQLite database. Every process is a child of this one,
in its own process group so that only this process decides when they stop: Ctrl-C (or SIGTERM,
or any child dying) stops them all, each warmly (a worker finishes its delivery first), the
sandbox receiver only once the workers are gone, and Redis last.
"""

from __future__ import annotations

import contextlib
import fcntl
import ipaddress
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import click

from adapter.cli.service import DEFAULT_HOST, DEFAULT_PORT
from adapter.queue import local_redis
from config.settings import load_settings

SANDBOX_PORT = 8070
"""The sandbox receiver's port, as ``config/addressees.yaml`` expects it."""

REDIS_PORT = 0
"""The local Redis's port: 0 starts one on a free port; another is used if a Redis answers."""

STOP_TIMEOUT = 30.0
"""Seconds a child has to stop after SIGTERM (a worker finishing a delivery) before SIGKILL."""

BANNER = """
csins-adapter is running: http://{host}:{port}/  (API docs: http://{host}:{port}/api/docs/)
  data: {data_dir}   redis: {redis}   sandbox receiver: http://127.0.0.1:{sandbox}/

Next, in another terminal:
  .venv/bin/csins-adapter keys create --la 812 --role local_authority
  curl -s -X POST http://{host}:{port}/api/v1/incidents -H "Authorization: Bearer $KEY" \\
       -H 'Content-Type: application/json' --data @tests/samples/incident.json
Stop with Ctrl-C.
"""


def _start(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # noqa: S603 - this very program, with fixed arguments
        [sys.executable, "-m", "adapter.cli", *args], env=env, process_group=0
    )


@click.command()
@click.option("--host", default=DEFAULT_HOST, show_default=True)
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=int)
@click.option(
    "--workers",
    default=3,
    show_default=True,
    type=click.IntRange(min=1),
    help="RQ worker processes (three: a slow addressee holds two at most).",
)
@click.option(
    "--sandbox/--no-sandbox",
    default=True,
    show_default=True,
    help="Start the sandbox receiver that plays the four addressees.",
)
@click.option(
    "--sandbox-port",
    default=SANDBOX_PORT,
    show_default=True,
    type=int,
    help="Port of the sandbox receiver (given to the other processes as CSINS_SANDBOX_URL).",
)
@click.option(
    "--redis-port",
    default=REDIS_PORT,
    show_default=True,
    type=int,
    help="Without REDIS_URL: the port of the Redis run starts (0: a free one); a Redis already "
    "answering on a port given here is used.",
)
def run(
    host: str, port: int, workers: int, sandbox: bool, sandbox_port: int, redis_port: int
) -> None:
    """Start web, worker(s), scheduler and sandbox receiver on this machine."""
    settings = load_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    _hold_data_dir(settings.data_dir)
    stop = _StopRequest()
    env = dict(settings.environ)
    own_redis: OwnRedis | None = None
    redis_url = settings.redis_url or _answering(settings.data_dir, redis_port)
    if redis_url is None:
        own_redis = OwnRedis(settings.data_dir, redis_port or local_redis.free_port())
        redis_url = own_redis.url
    env["REDIS_URL"] = redis_url
    if "CSINS_COOKIE_SECURE" not in env and _loopback(host):
        env["CSINS_COOKIE_SECURE"] = "false"  # plain http on this machine: no https to require
    if sandbox:
        env["CSINS_SANDBOX_URL"] = f"http://127.0.0.1:{sandbox_port}"
    receivers: list[subprocess.Popen[bytes]] = []
    services: list[subprocess.Popen[bytes]] = []
    try:
        _migrate()
        if sandbox:
            state_file = str(settings.data_dir / "sandbox.json")
            sandbox_args = ["sandbox", "--port", str(sandbox_port), "--state-file", state_file]
            receivers.append(_start(sandbox_args, env))
        services += [_start(["worker"], env) for _ in range(workers)]
        services.append(_start(["scheduler"], env))
        services.append(_start(["serve", "--host", host, "--port", str(port)], env))
        click.echo(
            BANNER.format(
                host=host,
                port=port,
                data_dir=settings.data_dir.resolve(),
                redis=shown_url(redis_url),
                sandbox=sandbox_port,
            )
        )
        children = [*receivers, *services]
        while not stop.requested and all(child.poll() is None for child in children):
            if own_redis is not None:
                own_redis.keep_running()
            time.sleep(0.5)
    finally:
        shut_down(services, receivers, None if own_redis is None else own_redis.process)
    if not stop.requested:
        raise click.ClickException("a process of the service stopped; everything was stopped")


REDIS_RESTARTS = 5
"""Most times ``run`` restarts its Redis within :data:`REDIS_RESTART_WINDOW` seconds before it
gives up and stops the whole service (a Redis that keeps dying needs a person)."""

REDIS_RESTART_WINDOW = 300.0


class OwnRedis:
    """The Redis ``run`` started for its data dir, with a generated password (kept in the data
    dir), restarted on the same port with the same append-only data when it dies: the workers
    and the web wait for Redis and carry on, and the sweep re-enqueues what a crash lost."""

    def __init__(self, data_dir: Path, port: int) -> None:
        self.data_dir, self.port = data_dir, port
        self.password = local_redis.password_for(data_dir)
        self.restarts: list[float] = []
        self.process, self.url = self._start()

    def _start(self) -> tuple[subprocess.Popen[bytes], str]:
        try:
            return local_redis.start(self.data_dir, self.port, self.password)
        except local_redis.LocalRedisError as exc:
            raise click.ClickException(str(exc)) from exc

    def keep_running(self) -> None:
        """Restart the server if it has stopped (killed, crashed, out of memory)."""
        code = self.process.poll()
        if code is None:
            return
        now = time.monotonic()
        self.restarts = [at for at in self.restarts if now - at < REDIS_RESTART_WINDOW] + [now]
        if len(self.restarts) > REDIS_RESTARTS:
            raise click.ClickException(
                f"the local Redis stopped {len(self.restarts)} times in "
                f"{REDIS_RESTART_WINDOW:.0f} seconds; everything was stopped (see "
                f"{self.data_dir.resolve() / 'redis' / 'redis.log'})"
            )
        click.echo(
            f"the local Redis stopped (exit status {code}); restarting it on port {self.port} "
            "with its append-only data",
            err=True,
        )
        self.process, self.url = self._start()


def _answering(data_dir: Path, port: int) -> str | None:
    """The URL of a Redis already answering on ``port`` when one was asked for (``run``'s own,
    left from before, with the data dir's password; or another without one), else None."""
    if port == 0:
        return None
    for url in (
        local_redis.url_for(port, local_redis.password_for(data_dir)),
        local_redis_url(port),
    ):
        if local_redis.answers(url):
            return url
    return None


_held: list[Any] = []
"""The open lock file of this process's data dir: the lock lasts as long as the process."""


def _hold_data_dir(data_dir: Path) -> None:
    """Lock ``data_dir`` for this ``run`` (released when the process ends, however it ends)."""
    handle = (data_dir / "run.lock").open("a")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise click.ClickException(
            f"another csins-adapter run is using {data_dir.resolve()}: stop it first, or give "
            "this one its own CSINS_DATA_DIR"
        ) from None
    _held.append(handle)


def shown_url(url: str) -> str:
    """``url`` fit to print: a password in it (``redis://:secret@host``, ``?password=``) is
    replaced by ``***``; a URL that cannot be parsed is not shown at all."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - parsing the port is what refuses a malformed host part
    except ValueError:
        return "(a URL that cannot be parsed: not shown)"
    userinfo, at, host = parts.netloc.rpartition("@")
    user, colon, _password = userinfo.partition(":")
    netloc = f"{user}{colon}{'***' if colon else ''}{at}{host}"
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    query = parts.query
    if any(name.lower() == "password" for name, _value in pairs):
        masked = [(name, "***" if name.lower() == "password" else value) for name, value in pairs]
        query = urlencode(masked, safe="*")
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def _loopback(host: str) -> bool:
    """Whether ``host`` (what ``serve`` binds) is this machine alone."""
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def local_redis_url(port: int) -> str:
    """The URL of a Redis on this machine's ``port``."""
    return f"redis://127.0.0.1:{port}/0"


def _migrate() -> None:
    """Bring the configured database to the newest schema; a database that cannot be used is a
    one-line error (exit 2), as for ``db upgrade``."""
    from adapter.cli.db import opened_database
    from adapter.store.migrate import upgrade

    with opened_database() as database:
        upgrade(database.engine)


class _StopRequest:
    """Set by SIGINT or SIGTERM (installed at once, so that no signal during start-up is lost)."""

    def __init__(self) -> None:
        self.requested = False
        signal.signal(signal.SIGINT, self._request)
        signal.signal(signal.SIGTERM, self._request)

    def _request(self, _signum: int, _frame: FrameType | None) -> None:
        self.requested = True


def shut_down(
    services: list[subprocess.Popen[bytes]],
    receivers: list[subprocess.Popen[bytes]],
    redis: subprocess.Popen[bytes] | None,
) -> None:
    """Stop everything ``run`` started, one stage after the other: the service (web, scheduler,
    workers, each warmly: a worker finishes the delivery it is sending), then the sandbox
    receiver that delivery is sent to, then Redis, which the workers need until they are gone."""
    _stop(services)
    _stop(receivers)
    if redis is not None:
        _stop([redis])


def _stop(children: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM every child's process group (gunicorn's workers, RQ's scheduler fork), newest
    first; SIGKILL what is still there after :data:`STOP_TIMEOUT`."""
    for child in reversed(children):
        if child.poll() is None:
            _signal_group(child, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    for child in children:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        _signal_group(child, signal.SIGKILL)  # anything left behind, e.g. an orphaned fork
        child.wait()


def _signal_group(child: subprocess.Popen[bytes], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signum)
