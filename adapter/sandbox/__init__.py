"""The built-in sandbox receiver: plays the national bodies so a fresh install delivers end to end.

Start it with ``csins-adapter sandbox`` (default http://127.0.0.1:8070, the shipped
``addressees.yaml`` points every addressee there) or, in tests, with :func:`start_in_thread`.
"""

from __future__ import annotations

from adapter.sandbox.server import (
    RunningSandbox,
    SandboxServer,
    dev_verifying_keys,
    make_server,
    start_in_thread,
)
from adapter.sandbox.state import Fault, SandboxState

__all__ = [
    "Fault",
    "RunningSandbox",
    "SandboxServer",
    "SandboxState",
    "dev_verifying_keys",
    "make_server",
    "start_in_thread",
]
