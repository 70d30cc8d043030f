"""``csins-adapter run`` when the database cannot be used: one line and exit 2, nothing left
running (DESIGN.md §7's convention for commands that cannot do their work at all)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_run_with_an_unreachable_database_says_so_in_one_line(tmp_path: Path) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CSINS_")},
        "CSINS_DATA_DIR": str(tmp_path),
        # Port 1 on loopback: nothing listens there, so the connection is refused at once.
        "DATABASE_URL": "postgresql+psycopg://csins:s3cret@127.0.0.1:1/csins",
        "REDIS_URL": "redis://127.0.0.1:1/0",  # set, so run starts no Redis of its own
    }
    done = subprocess.run(
        [sys.executable, "-m", "adapter.cli", "run", "--no-sandbox", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot use the database" in lines[0], done.stderr
    assert "s3cret" not in done.stderr + done.stdout
