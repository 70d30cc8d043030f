"""Code lists of the incident record (DESIGN.md §3). One place, shared by schemas and importers."""

from __future__ import annotations

NATURES = ("death", "serious_harm", "other")
"""§2: notify as "serious harm" or "death" unless there is a clear rationale for "other"."""

ABUSE_OR_NEGLECT = ("known", "suspected", "not_known_or_suspected")
OUTCOMES = ("died", "seriously_harmed", "not_harmed", "unknown")
SEXES = ("male", "female", "not_known")
DISABILITY = ("yes", "no", "not_known")

ETHNICITIES = (
    "WBRI",
    "WIRI",
    "WIRT",
    "WOTH",
    "WROM",
    "MWBC",
    "MWBA",
    "MWAS",
    "MOTH",
    "AIND",
    "APKN",
    "ABAN",
    "AOTH",
    "BCRB",
    "BAFR",
    "BOTH",
    "CHNE",
    "OOTH",
    "REFU",
    "NOBT",
)
"""DfE ethnicity codes."""

CP_CATEGORIES = ("NEG", "PHY", "EMO", "SAB", "MUL")
"""Child protection plan categories: neglect, physical, emotional, sexual abuse, multiple."""

SETTINGS = (
    "home",
    "school",
    "early_years",
    "foster_placement",
    "residential_childrens_home",
    "secure_childrens_home",
    "hospital",
    "mental_health_detention",
    "police_custody",
    "young_offender_institution",
    "secure_training_centre",
    "other",
)
"""Where the incident happened; the institutional settings are those of §4."""

PARALLEL_PROCESSES = (
    "criminal_investigation",
    "coroner",
    "domestic_homicide_review",
    "mappa_review",
    "safeguarding_adults_review",
    "professional_disciplinary",
)
"""Other reviewing processes running alongside (§5, §10)."""

SOURCE_SYSTEMS = ("liquidlogic", "mosaic", "json")
"""Where a record came from: an export of one of the two case systems, or JSON from any system."""

EVENT_TYPES = (
    "rapid_review_completed",
    "panel_consulted",
    "lcspr_decided",
    "publication_scheduled",
    "publication_delayed",
    "published",
    "panel_response_received",
    "panel_information_requested",
    "further_information_sent",
    "publication_decided",
    "publication_withdrawn",
    "family_informed",
    "referral_decided",
)
"""Lifecycle events (DESIGN.md §7), the second reading's last (§4, §5, §8, §3)."""

PANEL_CONSULTATION_OUTCOMES = ("notify", "do_not_notify")
LCSPR_DECISIONS = ("local_review", "no_review", "national_review_recommended")
REFERRAL_DECISIONS = ("notify", "do_not_notify")
"""What the safeguarding partners decide on an agency's referral (§3)."""
PUBLICATION_MODES = ("full_report", "improvements_only")
PUBLISH_CHOICES = ("full_report", "improvements_only", "none")
"""§8: publish the report, only the improvements, or (with a justification) neither."""

DOCUMENTS = (
    "incident_notification",
    "looked_after_child_death_notification",
    "care_leaver_death_notification",
    "rapid_review",
    "referral_decision",
    "panel_response",
    "lcspr_decision",
    "decision_rationale_to_family",
    "further_information",
    "final_report",
    "improvements_information",
    "publication",
    "publication_delay_notice",
    "publication_justification",
    "publication_availability",
    "amendment",
)
"""Document names of the catalogue (``adapter/rules/catalogue.py``, where each one's addressees and
due rule are written), plus amendments of an already-sent notification (§2)."""

ADDRESSEES = ("panel", "secretary_of_state", "ofsted", "dfe")
"""The national bodies documents are delivered to (DESIGN.md §6)."""

LOCAL_ADDRESSEES = ("safeguarding_partners", "family", "public")
"""Whom a local obligation is owed to: tracked and shown, never delivered (DESIGN.md §5)."""

DEADLINE_ADDRESSEES = (*ADDRESSEES, *LOCAL_ADDRESSEES)
"""Whom a deadline is owed to: a national body, or locally (DESIGN.md §5)."""

OBLIGATION_KINDS = ("statutory", "policy", "local", "expectation")
DEADLINE_STATUSES = ("pending", "due_soon", "overdue", "met", "met_late")


def allowed(values: tuple[str, ...]) -> str:
    """The allowed values as they appear in an error message."""
    return ", ".join(values)
