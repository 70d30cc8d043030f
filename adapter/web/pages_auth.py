"""Signing in with an admin or compliance API key, and signing out."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from adapter.web import sessions
from adapter.web.blueprint import bp

MAX_KEY_CHARS = 200
"""Longest API key read from the form (a real key has about 60 characters)."""


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> ResponseReturnValue:
    """The sign-in form; a valid admin or compliance key starts a session."""
    if request.method == "GET" and sessions.current_principal() is not None:
        return sessions.redirect_after_sign_in()
    error = None
    if request.method == "POST":
        presented = request.form.get("api_key", "").strip()[:MAX_KEY_CHARS]
        if not presented:
            error = "Enter your API key"
        else:
            try:
                sessions.sign_in(presented)
            except sessions.SignInRefused as refused:
                error = str(refused)
            else:
                return sessions.redirect_after_sign_in()
    status = 200 if error is None else 400
    return render_template(
        "admin/sign_in.html",
        title="Sign in",
        error=error,
        next=sessions.safe_next(request.args.get("next")),
    ), status


@bp.route("/sign-out", methods=["POST"])
def sign_out() -> Response:
    """End the session and go back to the sign-in page."""
    sessions.sign_out()
    flash("You have signed out.", "info")
    return redirect(url_for("admin.sign_in"))
