"""The sandbox's state, in memory and shared through a JSON file between receivers."""

from __future__ import annotations

import json

from adapter.delivery import OutcomeKind
from adapter.sandbox import Fault, SandboxState, start_in_thread
from tests.delivery.helpers import make_delivery, sandbox_channel

ADDRESSEES = ("panel", "ofsted")


def receive(state: SandboxState, webhook_id: str, addressee: str = "panel") -> tuple[str, bool]:
    return state.receive(
        addressee,
        webhook_id,
        sha256="ab" * 32,
        size=10,
        document="incident_notification",
        scheme="v1a",
    )


def test_references_count_per_addressee_and_repeats_are_recognised():
    state = SandboxState(ADDRESSEES)
    assert receive(state, "a") == ("PANEL-1", False)
    assert receive(state, "b") == ("PANEL-2", False)
    assert receive(state, "a") == ("PANEL-1", True)
    assert receive(state, "a", "ofsted") == ("OFSTED-1", False)
    panel = state.stats()["addressees"]["panel"]
    assert (panel["count"], panel["ids"]) == (2, ["a", "b"])
    assert panel["received"]["a"]["duplicates"] == 1


def test_faults_are_taken_in_order_and_used_up():
    state = SandboxState(ADDRESSEES)
    state.add_faults([Fault(addressee="ofsted", status=500, times=1), Fault(status=503, times=2)])
    taken = [state.take_fault(name) for name in ("panel", "ofsted", "ofsted", "panel")]
    assert [fault.status if fault else None for fault in taken] == [503, 500, 503, None]


def test_two_receivers_sharing_a_state_file_count_once(tmp_path, http):
    path = tmp_path / "sandbox-state.json"
    with start_in_thread(state_file=path) as first, start_in_thread(state_file=path) as second:
        a = sandbox_channel(first.url_for("panel")).send(make_delivery())
        b = sandbox_channel(second.url_for("panel")).send(make_delivery())
        assert a.kind is b.kind is OutcomeKind.ACKNOWLEDGED
        assert a.reference == b.reference == "PANEL-1"
        http.post(f"{first.base_url}/_sandbox/faults", json={"status": 500, "times": 1})
        assert http.get(f"{second.base_url}/_sandbox/stats").json()["faults"][0]["status"] == 500
    saved = json.loads(path.read_text())
    assert list(saved["addressees"]["panel"]["received"]) == [make_delivery().delivery_id]
    assert saved["addressees"]["panel"]["requests"] == 2


def test_a_restarted_receiver_remembers_from_its_state_file(tmp_path):
    path = tmp_path / "state.json"
    with start_in_thread(state_file=path) as running:
        sandbox_channel(running.url_for("panel")).send(make_delivery())
    with start_in_thread(state_file=path) as restarted:
        again = sandbox_channel(restarted.url_for("panel")).send(make_delivery())
        assert again.reference == "PANEL-1"
        assert restarted.state.stats()["addressees"]["panel"]["count"] == 1
