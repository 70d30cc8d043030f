"""gunicorn's own 414 and 431 come back as problem+json, from a real ``serve`` (issue 19)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapter.queue import local_redis


@pytest.fixture(scope="module")
def serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    port = local_redis.free_port()
    folder = tmp_path_factory.mktemp("serve")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CSINS_")}
    env.pop("DATABASE_URL", None)
    env.update(CSINS_DATA_DIR=str(folder / "var"), REDIS_URL="redis://127.0.0.1:1/0")
    subprocess.run(
        [sys.executable, "-m", "adapter.cli", "db", "upgrade"], env=env, check=True, timeout=60
    )
    log = open(folder / "serve.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [sys.executable, "-m", "adapter.cli", "serve", "--port", str(port), "--workers", "1"],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not _answers(port):
            assert process.poll() is None and time.monotonic() < deadline, Path(
                folder / "serve.log"
            ).read_text()
            time.sleep(0.2)
        yield port
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        log.close()


def _answers(port: int) -> bool:
    try:
        request = b"GET /livez HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        return _raw(port, request).startswith(b"HTTP/1.1")
    except OSError:
        return False


def _raw(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(request)
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
            if b"\r\n\r\n" in b"".join(chunks) and b"Connection: close" in b"".join(chunks):
                head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
                length = [
                    int(line.split(b":")[1]) for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                ]  # fmt: skip
                if length and len(body) >= length[0]:
                    break
        return b"".join(chunks)


def _problem(response: bytes) -> tuple[int, str, dict[str, object]]:
    head, _, body = response.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return status, headers.get("Content-Type", ""), json.loads(body)


def test_a_request_line_too_long_is_a_414_problem(serve: int) -> None:
    request = b"GET /api/v1/deliveries?cursor=" + b"a" * 20_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    status, kind, body = _problem(_raw(serve, request))
    assert (status, kind) == (414, "application/problem+json")
    assert body["status"] == 414 and str(body["type"]).startswith("urn:csins-adapter:problem:")
    assert "aaaa" not in json.dumps(body)


def test_header_fields_too_large_are_a_431_problem(serve: int) -> None:
    request = b"GET /livez HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 20_000 + b"\r\n\r\n"
    status, kind, body = _problem(_raw(serve, request))
    assert (status, kind) == (431, "application/problem+json")
    assert body["status"] == 431


IDLE_SECONDS = 4
"""Longer than gunicorn's default keep-alive (2 s, and its close comes within a second more)."""


def _response(conn: socket.socket) -> bytes:
    """One whole response (status line to the end of its Content-Length body) from ``conn``;
    empty when the server closed the connection instead of answering."""
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = conn.recv(65536)
        if not chunk:
            return received
        received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    (length,) = [
        int(line.split(b":")[1]) for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    ]  # fmt: skip
    while len(body) < length:
        body += conn.recv(65536)
    return head + b"\r\n\r\n" + body


def test_an_idle_keep_alive_connection_stays_open(serve: int) -> None:
    """Found by ``bench/soak.py``: gunicorn closed an idle keep-alive connection after 2 s, so
    a client that sent on it just as it closed got a reset (and a proxy reusing its connections
    to ``serve`` would answer 502). An idle connection now stays open longer than proxies and
    client pools keep theirs, so they close it first."""
    with socket.create_connection(("127.0.0.1", serve), timeout=10) as conn:
        for _ in range(2):
            conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            try:
                answer = _response(conn)
            except ConnectionResetError:
                answer = b""
            assert answer.startswith(b"HTTP/1.1 200"), answer
            time.sleep(IDLE_SECONDS)
