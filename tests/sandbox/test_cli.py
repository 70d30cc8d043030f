"""``csins-adapter sandbox`` runs the receiver in the foreground (a real process)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from click.testing import CliRunner

from adapter.cli.sandbox import sandbox as sandbox_command
from adapter.delivery import OutcomeKind
from tests.delivery.helpers import make_delivery, sandbox_channel

RUN_COMMAND = "from adapter.cli.sandbox import sandbox; sandbox(prog_name='csins-adapter sandbox')"


@pytest.mark.real_clock  # the receiver checks the webhook timestamp against its own clock
def test_the_command_serves_until_stopped(http):
    process = subprocess.Popen(
        [sys.executable, "-c", RUN_COMMAND, "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stderr is not None
    try:
        line = process.stdout.readline()
        assert line.startswith("sandbox receiver listening on http://127.0.0.1:")
        base_url = line.rsplit(" ", 1)[1].strip()
        assert http.get(f"{base_url}/healthz").status_code == 200
        outcome = sandbox_channel(f"{base_url}/dfe", addressee="dfe").send(
            make_delivery(addressee="dfe")
        )
        assert (outcome.kind, outcome.reference) == (OutcomeKind.ACKNOWLEDGED, "DFE-1")
    finally:
        process.terminate()
        process.wait(timeout=5)
        process.stdout.close()
        process.stderr.close()


def test_a_bad_key_is_refused_before_listening():
    result = CliRunner().invoke(sandbox_command, ["--port", "0", "--key", "whsec_c2hvcnQ="])
    assert result.exit_code == 2
    assert "--key" in result.output


def test_a_port_in_use_is_a_clear_error(sandbox):
    port = sandbox.server.server_address[1]
    result = CliRunner().invoke(sandbox_command, ["--port", str(port)])
    assert result.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.output
