"""``serve`` (gunicorn): the web process (``worker`` and ``scheduler``: :mod:`jobs.commands`).

Each can run N times on as many machines as needed against one database and one Redis
(DESIGN.md §2); ``csins-adapter run`` starts one of each on one machine. A worker or scheduler
that loses Redis waits for it and starts again (:mod:`jobs.outages`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_WEB_WORKERS = 2
"""gunicorn worker processes (one per core on the 2-core reference machine)."""

DEFAULT_WEB_THREADS = 4
"""Threads per gunicorn worker (requests mostly wait on the database)."""

WEB_TIMEOUT_SECONDS = 60
"""gunicorn's worker timeout (seconds): a worker silent for longer is killed and replaced."""

KEEPALIVE_SECONDS = 75
"""How long an idle keep-alive connection stays open. gunicorn's default (2 s) closes it while
clients still mean to reuse it: one that sends just as it closes gets a reset, and a proxy
reusing its connections to ``serve`` answers 502 (``bench/soak.py`` saw 2 resets in 22 000
requests). Longer than the idle timeout of common proxies and load balancers (60 s) and of
HTTP client pools, so they close first. An idle connection holds no thread (gthread)."""


@click.command()
@click.option("--host", default=DEFAULT_HOST, show_default=True)
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=int)
@click.option("--workers", default=DEFAULT_WEB_WORKERS, show_default=True, type=int)
@click.option("--threads", default=DEFAULT_WEB_THREADS, show_default=True, type=int)
def serve(host: str, port: int, workers: int, threads: int) -> None:
    """Serve the REST API (and pages) with gunicorn."""
    from adapter.cli.http_errors import install

    install()  # gunicorn's own 400/414/431 answers as problem+json, like the app's
    run_gunicorn(gunicorn_settings(host, port, workers, threads), _load_app)


def _load_app() -> Any:
    from adapter import logs
    from adapter.app import create_app
    from config.settings import load_settings

    settings = load_settings()
    logs.configure(settings.log_level)
    # Once per worker process: no connection crosses a fork.
    return create_app(settings=settings)


def gunicorn_settings(host: str, port: int, workers: int, threads: int) -> dict[str, Any]:
    """The gunicorn settings ``serve`` runs with (``bench/api_baseline.py`` serves alike)."""
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread",
        "accesslog": "-",
        "timeout": WEB_TIMEOUT_SECONDS,
        "keepalive": KEEPALIVE_SECONDS,
    }


def run_gunicorn(settings: dict[str, Any], load: Callable[[], Any]) -> None:
    """Run gunicorn with ``settings`` until stopped; ``load`` builds the app in each worker."""
    from gunicorn.app.base import BaseApplication

    class Application(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in settings.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return load()

    Application().run()
