"""Who is signed in to the admin pages: an API key's id in a signed session cookie.

Only ``admin`` and ``compliance`` keys may sign in (DESIGN.md §7). The cookie holds the key's id,
public prefix and the time of the sign-in, never the key: it is signed, not encrypted. Every
request looks the key up again, so revoking it (``csins-adapter keys revoke``) ends its sessions
at once, and a changed role or scope takes effect on the next page. Signing out records the time
on the key's row and every session of that key begun at or before it is refused from then on:
clearing the cookie alone would leave a copy of it working until it expires. The cookie is
HttpOnly, SameSite=Lax, expires after :data:`SESSION_LIFETIME`, and is Secure unless the page was
asked for over plain http from this machine (``127.0.0.1``, ``localhost``, ``::1``): a browser
keeps no Secure cookie over http, and that is how ``csins-adapter run`` serves the pages to the
person at the machine.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Flask, abort, flash, g, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from werkzeug.wrappers import Response

from adapter.clock import utcnow
from adapter.http.resources import resources
from adapter.store import audit_log
from adapter.store.access_models import ALL_LAS, ApiKeyRow
from adapter.store.api_keys import Principal, verify_key

WEB_ROLES = ("admin", "compliance")
"""Roles that may sign in to the pages: admins watch queues and retry, compliance reads."""

SESSION_LIFETIME = dt.timedelta(hours=8)
"""How long a sign-in lasts (a working day) before the cookie is refused."""

COOKIE_NAME = "csins_admin_session"
"""Name of the session cookie."""

SECURE_CONFIG_KEY = "WEB_COOKIE_SECURE"
"""App config of the cookie's Secure flag (from the setting ``cookie_secure``)."""

F = TypeVar("F", bound=Callable[..., Any])

_PASSIVE = "web_session_passive"
"""Name in ``flask.g`` of the mark :func:`passive` sets."""


class AdminSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, ``Secure`` unless configured off (``CSINS_COOKIE_SECURE``).

    Not decided from the request: behind a proxy the request may look like plain http to
    ``127.0.0.1`` whatever the browser used. The scheme a trusted proxy reports is applied by
    ``ProxyFix`` (``CSINS_TRUSTED_PROXIES``, :func:`adapter.app.create_app`)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config.get(SECURE_CONFIG_KEY, True))

    def should_set_cookie(self, app: Flask, session: Any) -> bool:
        """As Flask does (a permanent session's cookie is sent again, and so renewed, on each
        request), except on a :func:`passive` request, which sends it only if it changed."""
        if g.get(_PASSIVE):
            return bool(session.modified)
        return super().should_set_cookie(app, session)


def configure(app: Flask, secure: bool = True) -> None:
    """Cookie settings and the session interface (the secret key is set by the caller);
    ``secure``: the cookie's Secure flag (the setting ``cookie_secure``)."""
    app.config.setdefault(SECURE_CONFIG_KEY, secure)
    app.config.update(
        SESSION_COOKIE_NAME=COOKIE_NAME,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
    )
    app.session_interface = AdminSessionInterface()


class SignInRefused(Exception):
    """A presented key may not sign in; the message is shown to the person signing in."""


def sign_in(presented: str) -> Principal:
    """Start a session for ``presented`` (an API key), or raise :class:`SignInRefused`."""
    with resources().transaction() as db:
        principal = verify_key(db, presented)
        if principal is None:
            raise SignInRefused(
                "The API key is not recognised, or it has been revoked. "
                "Check you copied the whole key."
            )
        if principal.role not in WEB_ROLES:
            raise SignInRefused(
                f"This is a '{principal.role}' key. Only admin and compliance "
                "keys can sign in to these pages."
            )
        row = db.get_one(ApiKeyRow, principal.key_id)
        prefix, signed_in_at = row.prefix, utcnow()
        if row.web_signed_out_at is not None and signed_in_at <= row.web_signed_out_at:
            # A clock that has not moved on since the last sign-out must not refuse this session.
            signed_in_at = row.web_signed_out_at + dt.timedelta(microseconds=1)
        _audit(db, principal, "web.signed_in")
    session.clear()
    session.permanent = True
    session["key_id"] = principal.key_id
    session["key_prefix"] = prefix
    session["signed_in_at"] = signed_in_at.isoformat()
    return principal


def sign_out() -> None:
    """End the session, and every other session of its key begun before now (copies of this
    cookie included); the audit log says who signed out."""
    principal = current_principal()
    if principal is not None:
        with resources().transaction() as db:
            db.get_one(ApiKeyRow, principal.key_id).web_signed_out_at = utcnow()
            _audit(db, principal, "web.signed_out")
    session.clear()


def current_principal() -> Principal | None:
    """The signed-in key, looked up again now; None (and the session ended) if it is not valid."""
    if "web_principal" in g:
        found: Principal | None = g.web_principal
        return found
    key_id, prefix = session.get("key_id"), session.get("key_prefix")
    principal = None
    if isinstance(key_id, int) and isinstance(prefix, str):
        ended = (
            "Your session has ended because its API key is no longer valid. "
            "Sign in again with a current key."
        )
        with resources().transaction() as db:
            row = db.get(ApiKeyRow, key_id)
            if row is None or row.prefix != prefix or row.revoked_at is not None:
                pass  # the key is gone: the message above
            elif not _begun_after_sign_out(row):
                ended = "Your session has ended because the key was signed out. Sign in again."
            elif row.role in WEB_ROLES:
                principal = Principal(key_id=row.id, la_code=row.la_code, role=row.role)
        if principal is None:
            session.clear()
            flash(ended, "ended")
    g.web_principal = principal
    return principal


def _begun_after_sign_out(row: ApiKeyRow) -> bool:
    """Whether this session was begun after the key was last signed out (a session without a
    readable sign-in time predates the check, and is refused too)."""
    raw = session.get("signed_in_at")
    try:
        signed_in_at = dt.datetime.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        signed_in_at = None
    if signed_in_at is None or signed_in_at.utcoffset() is None:
        return False
    return row.web_signed_out_at is None or signed_in_at > row.web_signed_out_at


def signed_in(*roles: str) -> Callable[[F], F]:
    """Let a page run only for a signed-in key of one of ``roles`` (default: any web role)."""
    allowed = roles or WEB_ROLES

    def decorate(view: F) -> F:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            who = current_principal()
            if who is None:
                return redirect(url_for("admin.sign_in", next=request.full_path))
            if who.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        return cast(F, guarded)

    return decorate


def passive() -> None:
    """Mark this request as a page's own polling, not the person's: it does not renew the
    session, which still ends :data:`SESSION_LIFETIME` after the person's last request (a page
    left open must not keep its sign-in alive for ever)."""
    setattr(g, _PASSIVE, True)


def principal() -> Principal:
    """The signed-in key of this request (inside a :func:`signed_in` page)."""
    found = current_principal()
    if found is None:  # pragma: no cover - signed_in() has redirected already
        abort(401)
    return found


def safe_next(target: str | None) -> str | None:
    """``target`` when it is a path of these pages (no open redirect), else None."""
    if not target or not target.startswith("/admin") or target.startswith("//"):
        return None
    return target if "\\" not in target else None


def redirect_after_sign_in() -> Response:
    return redirect(safe_next(request.args.get("next")) or url_for("admin.dashboard"))


def _audit(db: Any, who: Principal, action: str) -> None:
    audit_log.audit(
        db,
        action=action,
        la_code=None if who.la_code == ALL_LAS else who.la_code,
        key_id=who.key_id,
        actor_role=who.role,
        object_type="api_key",
        object_id=who.key_id,
    )
