"""``ca_bundle``: a PEM file of *extra* CAs (config/addressees.yaml), over real TLS on 127.0.0.1.

The addressee's certificate is issued by a private CA made here; the public CAs the channel
trusts without a bundle stay trusted with one.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from adapter.delivery import ChannelConfigError, HttpsChannel, OutcomeKind
from adapter.delivery.factory import channel_for
from adapter.delivery.https import _default_tls_context
from adapter.delivery.signing import Scheme, new_key
from tests.delivery.helpers import ScriptedAddressee, make_delivery, quick


def _certificate(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Name,
    signer: ec.EllipticCurvePrivateKey,
    *,
    ca: bool,
) -> x509.Certificate:
    # OpenSSL checks validity against the real clock, not the suite's (tests/support/clock.py):
    # a window wide enough for both, at whatever date the suite runs.
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
        .not_valid_after(dt.datetime(2100, 1, 1, tzinfo=dt.UTC))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
    else:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
    return builder.sign(signer, hashes.SHA256())


@pytest.fixture(scope="module")
def private_ca(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ssl.SSLContext]:
    """A private CA's PEM file, and a server context for 127.0.0.1 with a certificate it issued."""
    folder = tmp_path_factory.mktemp("tls")
    ca_key, server_key = (
        ec.generate_private_key(ec.SECP256R1()),
        ec.generate_private_key(ec.SECP256R1()),
    )
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "csins test CA")])
    ca = _certificate("csins test CA", ca_key, ca_name, ca_key, ca=True)
    server = _certificate("127.0.0.1", server_key, ca_name, ca_key, ca=False)
    ca_file, cert_file, key_file = folder / "ca.pem", folder / "server.pem", folder / "key.pem"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(server.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return ca_file, context


@pytest.fixture
def tls_addressee(private_ca: tuple[Path, ssl.SSLContext]) -> Iterator[ScriptedAddressee]:
    with ScriptedAddressee(tls=private_ca[1]) as running:
        running.answer = (200, "application/json", b'{"reference": "TLS-1"}')
        yield running


def https_config(endpoint: str, **settings: str) -> dict[str, str]:
    return {"channel": "https", "endpoint": endpoint, "signing_key_env": "K", **settings}


def test_an_addressee_certified_by_the_bundles_ca_is_trusted(private_ca, tls_addressee):
    channel = channel_for(
        "panel",
        https_config(tls_addressee.url, ca_bundle=str(private_ca[0])),
        {"K": new_key(Scheme.V1A)[0]},
        retry=quick(1),
    )
    outcome = channel.send(make_delivery())
    assert (outcome.kind, outcome.reference) == (OutcomeKind.ACKNOWLEDGED, "TLS-1")


def test_without_the_bundle_the_private_ca_is_not_trusted(tls_addressee):
    channel = channel_for(
        "panel", https_config(tls_addressee.url), {"K": new_key(Scheme.V1A)[0]}, retry=quick(1)
    )
    outcome = channel.send(make_delivery())
    assert (outcome.kind, outcome.status) == (OutcomeKind.TRANSIENT, None)
    assert tls_addressee.requests == 0


def test_the_bundle_adds_to_the_default_cas_rather_than_replacing_them(private_ca):
    channel = channel_for(
        "panel",
        https_config("https://panel.example/", ca_bundle=str(private_ca[0])),
        {"K": new_key(Scheme.V1A)[0]},
    )
    assert isinstance(channel, HttpsChannel)
    default = {ca["serialNumber"] for ca in _default_tls_context().get_ca_certs()}
    trusted = {ca["serialNumber"] for ca in channel._verify.get_ca_certs()}
    assert default and default < trusted
    assert len(trusted - default) == 1  # the bundle's CA


@pytest.mark.parametrize(
    ("name", "reason"),
    [("missing.pem", "No such file or directory"), ("empty.pem", "NO_CERTIFICATE_OR_CRL_FOUND")],
)
def test_a_bundle_that_cannot_be_loaded_is_a_configuration_error(tmp_path, name, reason):
    (tmp_path / "empty.pem").write_text("not a certificate\n")
    bundle = str(tmp_path / name)
    with pytest.raises(ChannelConfigError) as caught:
        channel_for(
            "panel",
            https_config("https://panel.example/", ca_bundle=bundle),
            {"K": new_key(Scheme.V1A)[0]},
        )
    assert caught.value.addressee == "panel"
    assert str(caught.value).startswith("addressees.yaml: panel: ca_bundle: cannot load")
    assert bundle in str(caught.value) and reason in str(caught.value)
