"""Choosing a channel from addressees.yaml (config by env-var name, never by test flags)."""

from __future__ import annotations

import pytest

from adapter.delivery import (
    ChannelConfigError,
    HttpsChannel,
    OutcomeKind,
    SandboxChannel,
    SmtpChannel,
    channel_for,
    defaults,
)
from adapter.delivery.signing import Scheme, new_key
from config.settings import load_settings
from tests.delivery.helpers import make_delivery, quick


def test_the_shipped_configuration_sends_every_addressee_to_the_sandbox():
    settings = load_settings(env={})
    schemes: set[Scheme] = set()
    for addressee, config in settings.addressees.items():
        channel = channel_for(addressee, config, {})
        assert isinstance(channel, SandboxChannel)
        schemes.add(channel.signing_keys[0].scheme)
        assert channel.endpoint == (
            f"http://{defaults.SANDBOX_HOST}:{defaults.SANDBOX_PORT}/{addressee}"
        )
    assert schemes == {Scheme.V1, Scheme.V1A}  # both schemes are exercised by default


def test_the_shipped_configuration_delivers_to_a_sandbox_named_by_env(sandbox):
    settings = load_settings(env={})
    environ = {"CSINS_SANDBOX_URL": sandbox.base_url}
    for addressee, config in settings.addressees.items():
        channel = channel_for(addressee, config, environ, retry=quick())
        assert isinstance(channel, SandboxChannel)
        assert channel.endpoint == sandbox.url_for(addressee)
        outcome = channel.send(make_delivery(addressee=addressee))
        assert outcome.kind is OutcomeKind.ACKNOWLEDGED, outcome.detail
        assert outcome.reference == f"{addressee.upper()}-1"


def test_an_https_addressee_takes_its_key_and_token_from_the_named_env_vars():
    signing, _ = new_key(Scheme.V1A)
    config = {
        "name": "Panel",
        "channel": "https",
        "endpoint": "https://panel.example/csins",
        "signing": "v1a",
        "signing_key_env": "PANEL_KEY",
        "auth_token_env": "PANEL_TOKEN",
        "read_timeout_seconds": 12,
        "connect_timeout_seconds": 1.5,
    }
    channel = channel_for("panel", config, {"PANEL_KEY": signing, "PANEL_TOKEN": "t0ken"})
    assert type(channel) is HttpsChannel
    assert (channel.timeouts.read, channel.timeouts.connect) == (12.0, 1.5)
    headers = channel.headers(make_delivery(), b"{}", 1)
    assert headers["Authorization"] == "Bearer t0ken"
    assert headers["webhook-signature"].startswith("v1a,")


@pytest.mark.parametrize(
    ("config", "environ", "message"),
    [
        ({"channel": "fax"}, {}, "channel: expected https, smtp or sandbox"),
        (
            {
                "channel": "https",
                "endpoint": "https://x.example",
                "signing_key_env": "K",
                "timeout": 3,
            },
            {"K": "x"},
            "unknown setting",
        ),
        ({"channel": "https", "signing_key_env": "K"}, {}, "endpoint: required"),
        ({"channel": "https", "endpoint": "https://x.example"}, {}, "signing_key_env: required"),
        (
            {"channel": "https", "endpoint": "https://x.example", "signing_key_env": "K"},
            {},
            "environment variable K is not set",
        ),
        (
            {"channel": "https", "endpoint": "http://x.example", "signing_key_env": "K"},
            {"K": defaults.SANDBOX_DEV_SIGNING_KEY},
            "needs an https:// URL",
        ),
        (
            {"channel": "https", "endpoint": "ftp://x.example", "signing_key_env": "K"},
            {"K": defaults.SANDBOX_DEV_SIGNING_KEY},
            "expected an http(s) URL",
        ),
        (
            {
                "channel": "https",
                "endpoint": "https://x.example",
                "signing_key_env": "K",
                "signing": "v1",
            },
            {"K": defaults.SANDBOX_DEV_SIGNING_KEY},
            "first key is a v1a key",
        ),
        (
            {
                "channel": "https",
                "endpoint": "https://x.example",
                "signing_key_env": "K",
                "signing": "v2",
            },
            {"K": "x"},
            "signing: expected v1a",
        ),
        (
            {"channel": "https", "endpoint": "https://x.example", "signing_key_env": "K"},
            {"K": "whsec_c2hvcnQ="},
            "signing_key_env: whsec_ secret",
        ),
        ({"channel": "sandbox", "read_timeout_seconds": 0}, {}, "read_timeout_seconds"),
        ({"channel": "smtp", "host": "mail.example", "from": "a@la.example"}, {}, "to:"),
        (
            {
                "channel": "smtp",
                "host": "mail.example",
                "from": "a@la.example",
                "to": ["b@x"],
                "port": "25",
            },
            {},
            "port:",
        ),
        (
            {
                "channel": "smtp",
                "host": "mail.example",
                "from": "a@la.example",
                "to": ["b@x"],
                "tls": "ssl",
            },
            {},
            "tls:",
        ),
        (
            {
                "channel": "smtp",
                "host": "mail.example",
                "from": "a@la.example",
                "to": ["b@x"],
                "username_env": "U",
            },
            {"U": "me"},
            "password_env: required",
        ),
        ({"channel": "smtp", "from": "a@la.example", "to": ["b@x"]}, {}, "host: required"),
        ("sandbox", {}, "expected a mapping"),
    ],
)
def test_bad_configuration_names_the_addressee_and_the_setting(config, environ, message):
    with pytest.raises(ChannelConfigError) as caught:
        channel_for("panel", config, environ)
    assert str(caught.value).startswith("addressees.yaml: panel: ")
    assert message in str(caught.value)
    assert "c2hvcnQ" not in str(caught.value)  # never echo key material


def endpoint(config: dict[str, str], environ: dict[str, str]) -> str:
    channel = channel_for("dfe", config, environ)
    assert isinstance(channel, SandboxChannel)
    return channel.endpoint


def test_a_sandbox_endpoint_override_without_a_path_gets_the_addressee():
    config = {"channel": "sandbox", "endpoint_env": "SANDBOX"}
    assert endpoint(config, {"SANDBOX": "http://10.0.0.5:9000/"}) == ("http://10.0.0.5:9000/dfe")
    assert endpoint(config, {"SANDBOX": "http://h:1/custom"}) == ("http://h:1/custom")
    assert endpoint(config, {}).endswith(f":{defaults.SANDBOX_PORT}/dfe")


def test_an_smtp_addressee():
    config = {
        "channel": "smtp",
        "host": "smtp.example.gov.uk",
        "port": 465,
        "tls": "tls",
        "from": "csins@la.example.gov.uk",
        "to": "a@ofsted.example, b@ofsted.example",
        "username_env": "SMTP_USER",
        "password_env": "SMTP_PASSWORD",
        "timeout_seconds": 10,
        "message_id_domain": "csins.la.example.gov.uk",
    }
    channel = channel_for("ofsted", config, {"SMTP_USER": "u", "SMTP_PASSWORD": "p"})
    assert isinstance(channel, SmtpChannel)
    assert (channel.host, channel.port, channel.tls, channel.timeout) == (
        "smtp.example.gov.uk",
        465,
        "tls",
        10.0,
    )
    assert channel.recipients == ("a@ofsted.example", "b@ofsted.example")
    assert channel.message_id(make_delivery(addressee="ofsted")) == (
        "<csins.dlv_01JD0000000000000000000001@csins.la.example.gov.uk>"
    )
