"""User-facing names in Danish (default) and English, picked by the request's Accept-Language."""

from django.utils.translation import get_language

NAMES: dict[str, dict[str, str]] = {
    # roles
    "citizen": {"da": "Borger", "en": "Citizen"},
    "relative": {"da": "Pårørende", "en": "Relative"},
    "care_worker": {"da": "Plejemedarbejder", "en": "Care worker"},
    "therapist": {"da": "Terapeut", "en": "Therapist"},
    "team_lead": {"da": "Teamleder", "en": "Team lead"},
    "it": {"da": "IT-medarbejder (velfærdsteknologi)", "en": "IT (welfare technology)"},
    "analyst": {"da": "Analytiker", "en": "Analyst"},
    "staff": {"da": "Medarbejder", "en": "Staff"},
    "device": {"da": "Enhed", "en": "Device"},
    "system": {"da": "System", "en": "System"},
    # access-log actions
    "read": {"da": "Læst", "en": "Read"},
    "create": {"da": "Oprettet", "en": "Created"},
    "update": {"da": "Ændret", "en": "Changed"},
    "delete": {"da": "Slettet", "en": "Deleted"},
    "export": {"da": "Eksporteret", "en": "Exported"},
    # access-log purposes
    "care": {"da": "Pleje og behandling", "en": "Care"},
    "follow_up": {"da": "Opfølgning", "en": "Follow-up"},
    "device_installation": {"da": "Installation af velfærdsteknologi", "en": "Device installation"},
    "own_use": {"da": "Din egen brug", "en": "Your own use"},
    "relative_support": {"da": "Støtte fra pårørende", "en": "Support from a relative"},
    "administration": {"da": "Administration", "en": "Administration"},
}


def language() -> str:
    return "en" if (get_language() or "da").startswith("en") else "da"


def name(code: str) -> str:
    entry = NAMES.get(code)
    if entry is None:
        return code
    return entry[language()]
