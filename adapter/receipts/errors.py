"""Exceptions of the receipt log; all derive from :class:`adapter.errors.CsinsError`.

CsinsError
└── ReceiptError             base of this package's errors
    ├── KeyringError         signing keys cannot be loaded, generated or rotated
    ├── MalformedJwks        a key set is unreadable, or not a JWKS of Ed25519 keys
    └── VerificationFailed   a receipt or checkpoint cannot be trusted; ``reason`` is one line
        ├── MalformedReceipt     not JSON, missing parts, bad base64, not a receipt of its version
        ├── UnknownKey           signed by a key id the JWKS does not publish (``kid``)
        ├── BadSignature         the Ed25519 signature does not verify
        └── AlteredField         the readable content differs from what was signed (``field``)
"""

from __future__ import annotations

from adapter.errors import CsinsError


class ReceiptError(CsinsError):
    """Base of the receipt log's errors."""


class KeyringError(ReceiptError):
    """Signing keys cannot be loaded, generated or rotated; the message names the file."""


class MalformedJwks(ReceiptError):
    """A key set cannot be read (file, URL) or is not a JWKS (RFC 7517) of Ed25519 keys."""


class VerificationFailed(ReceiptError):
    """A receipt or checkpoint failed verification; ``reason`` is a one-line explanation."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class MalformedReceipt(VerificationFailed):
    """The file is not a receipt: not JSON, missing parts, bad base64, or bad content."""


class UnknownKey(VerificationFailed):
    """The JWS names a key id (``kid``) that the JWKS does not publish."""

    def __init__(self, kid: str) -> None:
        self.kid = kid
        super().__init__(f"unknown key: kid '{kid}' is not in the JWKS")


class BadSignature(VerificationFailed):
    """The signature does not verify with the published key: the signed bytes were changed."""

    def __init__(self, kid: str) -> None:
        self.kid = kid
        super().__init__(f"bad signature: the JWS does not verify with key '{kid}'")


class AlteredField(VerificationFailed):
    """A field of the readable content differs from the signed payload (added, removed, changed)."""

    def __init__(self, field: str, how: str) -> None:
        self.field = field
        super().__init__(f"altered field '{field}': {how}")
