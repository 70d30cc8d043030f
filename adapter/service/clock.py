"""The service's clock: :mod:`adapter.clock`, where the importers read the date too."""

from __future__ import annotations

from adapter.clock import LONDON, london_today, utcnow

__all__ = ["LONDON", "london_today", "utcnow"]
