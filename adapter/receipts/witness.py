"""Checkpoints of the receipt log kept outside the database: an append-only file (issue 19 item 3).

Someone who can write to the database can delete the last receipts, roll the log's head back,
un-acknowledge their deliveries and delete the stored checkpoints: what is left is a shorter log
that is consistent with itself. Only a checkpoint kept where the database cannot reach shows the
receipts that are gone. So every checkpoint the service signs (every few minutes, see
:mod:`jobs.cron`, and on demand: ``csins-adapter receipts checkpoint``) is also appended to a
file, by default ``{data_dir}/receipt-checkpoints.jsonl`` (``CSINS_CHECKPOINT_FILE``): one
checkpoint file document per line (``{"checkpoint": {...}, "jws": "..."}``: size, head hash,
time, signature, and the signing key's id in the JWS header). Lines are only ever appended
(``O_APPEND``, under an exclusive lock so that several schedulers never interleave a line, then
``fsync``); operators can make the file append-only for every process (``chattr +a``) or copy it
off the machine (see docs/deploy.md). ``receipts audit --checkpoint FILE`` takes the file, or any
copy or one downloaded from ``GET /api/v1/receipts/checkpoints``, and compares the log with every
checkpoint in it.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path

from adapter.receipts.errors import MalformedReceipt
from adapter.receipts.keys import SigningKeyring
from adapter.receipts.log import record_checkpoint
from adapter.receipts.signed import (
    MAX_FILE_BYTES,
    SignedCheckpoint,
    from_file,
)
from adapter.store.database import Database
from config.settings import Settings
from schemas import unique_keys

FILE_NAME = "receipt-checkpoints.jsonl"
"""The witness file's name in the data dir, unless ``CSINS_CHECKPOINT_FILE`` names another."""

MAX_WITNESS_BYTES = 512 * 1024 * 1024
"""Largest witness file read (bytes): a checkpoint line is about 500 bytes, so about a million
checkpoints, nine years at one every five minutes."""

MAX_LINE_BYTES = 16 * 1024
"""Longest line read (bytes): a checkpoint line is about 500 bytes."""


def witness_path(settings: Settings) -> Path:
    """Where checkpoints are appended: ``CSINS_CHECKPOINT_FILE``, else in the data dir."""
    return settings.checkpoint_file or settings.data_dir / FILE_NAME


def checkpoint_and_witness(
    database: Database, signer: SigningKeyring, path: Path
) -> SignedCheckpoint | None:
    """Sign the log's head, store the checkpoint in the database and, once committed, append
    it to the witness file ``path``; None (nothing written) while the log is empty."""
    with database.session_scope() as session:
        row = record_checkpoint(session, signer)
        if row is None:
            return None
        checkpoint = SignedCheckpoint.from_jws(row.jws)
    append_checkpoint(path, checkpoint)
    return checkpoint


def append_checkpoint(path: Path, checkpoint: SignedCheckpoint) -> None:
    """Append ``checkpoint`` to the witness file as one line, durably (the folder is created,
    the file readable by its owner alone: it names how many receipts the log holds)."""
    line = json.dumps(
        {SignedCheckpoint.kind: checkpoint.content, "jws": checkpoint.jws},
        separators=(",", ":"),
        sort_keys=True,
    )
    data = (line + "\n").encode("ascii")
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        written = 0
        while written < len(data):
            written += os.write(descriptor, data[written:])
        os.fsync(descriptor)
    finally:
        os.close(descriptor)  # closing releases the lock


def read_checkpoints(path: Path) -> list[SignedCheckpoint]:
    """Every checkpoint in ``path``: a witness file (one per line) or a single checkpoint file
    (as ``GET /api/v1/receipts/checkpoints`` or ``receipts verify`` take it, on many lines).
    Not yet verified. Raises :class:`MalformedReceipt` naming the line that is not one."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise MalformedReceipt(f"cannot read {path}: {exc.strerror}") from None
    if size > MAX_WITNESS_BYTES:
        raise MalformedReceipt(f"malformed: {path} is larger than {MAX_WITNESS_BYTES} bytes")
    if size <= MAX_FILE_BYTES:
        whole = _single(path)
        if whole is not None:
            return [whole]
    return list(_lines(path))


def _single(path: Path) -> SignedCheckpoint | None:
    """The file as one JSON document, if it is one (a pretty-printed checkpoint file)."""
    try:
        document = unique_keys.loads(path.read_bytes())
    except unique_keys.RepeatedKey as repeated:
        raise MalformedReceipt(f"malformed: {path} repeats the key '{repeated}'") from None
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None  # several lines of JSON: a witness file
    found = from_file(document, (SignedCheckpoint,))
    assert isinstance(found, SignedCheckpoint)  # asked for checkpoints only
    return found


def _lines(path: Path) -> Iterator[SignedCheckpoint]:
    with path.open("rb") as handle:
        for number, line in enumerate(iter(lambda: handle.readline(MAX_LINE_BYTES + 1), b""), 1):
            if len(line) > MAX_LINE_BYTES:
                raise MalformedReceipt(f"malformed: line {number} of {path} is too long")
            if not line.strip():
                continue
            try:
                document = unique_keys.loads(line)
                found = from_file(document, (SignedCheckpoint,))
            except unique_keys.RepeatedKey as repeated:
                raise MalformedReceipt(
                    f"malformed: line {number} of {path} repeats the key '{repeated}'"
                ) from None
            except (ValueError, UnicodeDecodeError, RecursionError):
                raise MalformedReceipt(f"malformed: line {number} of {path} is not JSON") from None
            except MalformedReceipt as exc:
                raise MalformedReceipt(f"line {number} of {path}: {exc}") from None
            assert isinstance(found, SignedCheckpoint)
            yield found


def witness_download(path: Path) -> Iterator[bytes]:
    """The witness file's lines as they are now (one read; appends after it are left for the
    next download), or nothing when no checkpoint has been written to ``path`` yet."""
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        return
    with handle:
        end = os.fstat(handle.fileno()).st_size
        while handle.tell() < end:
            chunk = handle.read(min(1 << 16, end - handle.tell()))
            if not chunk:
                return
            yield chunk
