"""Bearer API keys bound to one LA and one role (DESIGN.md §7).

A missing or unknown key is 401 with ``WWW-Authenticate: Bearer``; a known key whose role may
not do this is 403. What a key may *see* is its LA scope, applied by every repository query, so
another LA's incident answers 404 (not 403): its existence is not disclosed.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import g, request

from adapter.api.spec import problem_responses
from adapter.http.problems import ApiProblem
from adapter.http.resources import resources
from adapter.store.api_keys import Principal, verify_key

ROLES = ("local_authority", "agency", "admin", "compliance")
READERS = ("local_authority", "admin", "compliance")
"""Roles that may read incidents, deadlines and deliveries of their scope."""

F = TypeVar("F", bound=Callable[..., Any])


def authenticate() -> Principal:
    """The caller behind the request's bearer key; raises a 401 problem otherwise."""
    header = request.headers.get("Authorization", "")
    scheme, _, presented = header.partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        raise ApiProblem(
            401,
            "unauthenticated",
            "send an API key as 'Authorization: Bearer <key>'",
            headers={"WWW-Authenticate": 'Bearer realm="csins-adapter"'},
        )
    with resources().database.autocommit_scope() as session:
        principal = verify_key(session, presented.strip())
    if principal is None:
        raise ApiProblem(
            401,
            "unauthenticated",
            "the API key is not valid or has been revoked",
            headers={"WWW-Authenticate": 'Bearer realm="csins-adapter", error="invalid_token"'},
        )
    return principal


def requires(*roles: str) -> Callable[[F], F]:
    """Let the view run only for keys of one of ``roles``; the principal is in ``g.principal``.

    Documents the view's 401, and its 403 unless every role may call it, in OpenAPI.
    """

    def decorate(view: F) -> F:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            principal = authenticate()
            if principal.role not in roles:
                raise ApiProblem(
                    403,
                    "forbidden",
                    f"a '{principal.role}' key cannot do this; it needs one of: {', '.join(roles)}",
                )
            g.principal = principal
            return view(*args, **kwargs)

        refused: list[tuple[int, str]] = [
            (401, "No API key, or one that is not valid or has been revoked"),
        ]
        if set(ROLES) - set(roles):
            refused.append((403, f"A key of another role (this needs one of: {', '.join(roles)})"))
        return problem_responses(*refused)(cast(F, guarded))

    return decorate


def principal() -> Principal:
    """The authenticated caller of this request (set by :func:`requires`)."""
    found: Principal = g.principal
    return found
