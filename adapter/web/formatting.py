"""How the pages write times, dates and ages: always Europe/London, in GOV.UK style.

The store keeps UTC; every time a person reads is converted here, with GMT or BST said, so a
deadline that ends at midnight in England is never shown an hour off.
"""

from __future__ import annotations

import datetime as dt

from flask import Flask

from adapter.clock import LONDON


def london_time(moment: dt.datetime | None) -> str:
    """``23 November 2026 at 2:30pm GMT`` (an empty string for None)."""
    if moment is None:
        return ""
    local = moment.astimezone(LONDON)
    hour = local.hour % 12 or 12
    suffix = "am" if local.hour < 12 else "pm"
    return f"{local.day} {local:%B %Y} at {hour}:{local:%M}{suffix} {local.tzname()}"


def london_date(day: dt.date | dt.datetime | None) -> str:
    """``23 November 2026`` (a datetime is first converted to Europe/London)."""
    if day is None:
        return ""
    if isinstance(day, dt.datetime):
        day = day.astimezone(LONDON).date()
    return f"{day.day} {day:%B %Y}"


def london_iso(text: str | None) -> str:
    """An ISO 8601 time written in a receipt (UTC ``Z`` or with an offset) in UK time."""
    if not text:
        return ""
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return text
    return london_time(moment) if moment.tzinfo is not None else text


def iso_london(moment: dt.datetime | None) -> str:
    """The machine-readable form for ``<time datetime=...>``: ISO 8601 with the London offset."""
    return "" if moment is None else moment.astimezone(LONDON).isoformat(timespec="seconds")


def age(moment: dt.datetime | None, now: dt.datetime) -> str:
    """How long ago ``moment`` was, roughly: ``4 minutes``, ``3 hours``, ``2 days``."""
    if moment is None:
        return ""
    seconds = max(0, int((now - moment).total_seconds()))
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return "less than a minute"


def words(code: str | None) -> str:
    """A code as words for a reader: ``incident_notification`` → ``Incident notification``."""
    if not code:
        return ""
    text = code.replace("_", " ").replace(".", ": ")
    return text[:1].upper() + text[1:]


def short_id(value: str | None) -> str:
    """A long id (a UUID) cut to its first 8 characters for a table; short ids unchanged."""
    if not value:
        return ""
    return value if len(value) <= 12 else f"{value[:8]}…"


def as_option(code: str) -> tuple[str, str]:
    """A ``<select>`` option for a code: its value and its words."""
    return code, words(code) if code else "Any"


def error_link(error: tuple[str, str]) -> dict[str, str]:
    """An error-summary item for a filter field's ``(name, message)``."""
    name, message = error
    return {"text": message, "href": f"#filter-{name}"}


def init_app(app: Flask) -> None:
    """Make the filters available to every template."""
    app.add_template_filter(london_time, "london_time")
    app.add_template_filter(london_date, "london_date")
    app.add_template_filter(iso_london, "iso_london")
    app.add_template_filter(london_iso, "london_iso")
    app.add_template_filter(words, "words")
    app.add_template_filter(as_option, "as_option")
    app.add_template_filter(short_id, "short_id")
    app.add_template_filter(error_link, "error_link")
