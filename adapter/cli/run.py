"""``csins-adapter run``: the whole service on one machine (web, worker, scheduler, sandbox).

With no configuration it uses SQLite under ``CSINS_DATA_DIR`` and a Redis: ``REDIS_URL`` if set,
else one answering on 127.0.0.1:6379, else a local one it starts. Every process is a child of
this one; Ctrl-C (or any child dying) stops them all.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from types import FrameType

import click

from adapter import localredis
from adapter.cli.service import DEFAULT_HOST, DEFAULT_PORT
from config.settings import load_settings
from jobs.queues import DEFAULT_REDIS_URL

SANDBOX_PORT = 8070
"""The sandbox receiver's port, as ``config/addressees.yaml`` expects it."""

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
    return subprocess.Popen([sys.executable, "-m", "adapter.cli", *args], env=env)  # noqa: S603


@click.command()
@click.option("--host", default=DEFAULT_HOST, show_default=True)
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int, help="RQ worker processes.")
@click.option(
    "--sandbox/--no-sandbox",
    default=True,
    show_default=True,
    help="Start the sandbox receiver that plays the four addressees.",
)
def run(host: str, port: int, workers: int, sandbox: bool) -> None:
    """Start web, worker(s), scheduler and sandbox receiver on this machine."""
    settings = load_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    env = dict(settings.environ)
    children: list[subprocess.Popen[bytes]] = []
    redis_url = settings.redis_url or DEFAULT_REDIS_URL
    if not settings.redis_url and not localredis.answers(redis_url):
        server, redis_url = localredis.start(settings.data_dir, 6379)
        children.append(server)
    env["REDIS_URL"] = redis_url

    from adapter.store import Database
    from adapter.store.migrate import upgrade

    database = Database()
    database.configure(settings)
    upgrade(database.engine)
    database.dispose()

    if sandbox:
        children.append(
            _start(
                [
                    "sandbox",
                    "--port",
                    str(SANDBOX_PORT),
                    "--state-file",
                    str(settings.data_dir / "sandbox.json"),
                ],
                env,
            )
        )
    children += [_start(["worker"], env) for _ in range(workers)]
    children.append(_start(["scheduler"], env))
    children.append(_start(["serve", "--host", host, "--port", str(port)], env))
    click.echo(
        BANNER.format(
            host=host,
            port=port,
            data_dir=settings.data_dir.resolve(),
            redis=redis_url,
            sandbox=SANDBOX_PORT,
        )
    )
    _supervise(children)


def _supervise(children: list[subprocess.Popen[bytes]]) -> None:
    stopping = False

    def stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while not stopping and all(child.poll() is None for child in children):
        time.sleep(0.5)
    for child in reversed(children):
        if child.poll() is None:
            child.terminate()
    for child in children:
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
    if not stopping:
        raise click.ClickException("a process of the service stopped; everything was stopped")
