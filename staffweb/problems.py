"""The API's problem codes as the pages say them: Danish, beside the field or above the form."""

from backend.errors import ApplicationError, InvalidInput
from backend.problem_texts import DANISH, FALLBACK_DANISH

# The platform's catalogue, with what the staff pages say in their own words.
MESSAGES: dict[str, str] = {
    **DANISH,
    "invalid": "Værdien kan ikke bruges. Ret den og prøv igen.",
    "invalid_credentials": "Forkert brugernavn, adgangskode eller engangskode.",
    "locked_out": "Kontoen er spærret efter for mange forkerte forsøg. Prøv igen senere.",
    "rate_limited": "For mange forsøg. Vent lidt og prøv igen.",
    "account_disabled": "Kontoen er lukket.",
    "unknown_staff": "Der findes ingen medarbejderkonto til dette login.",
    "login_expired": "Login er udløbet eller allerede brugt. Start forfra.",
    "login_refused": "Log ind blev ikke gennemført hos identitetsudbyderen.",
    "not_found": "Siden findes ikke.",
    "stale_version": "En anden har ændret dette imens. Her er den nuværende udgave.",
    "episode_ended": "Forløbet er afsluttet.",
    "plan_ended": "Træningsplanen er afsluttet.",
    "plan_not_active": "Træningsplanen er ikke aktiv.",
    "not_episode_team": "Kun medarbejdere i forløbets team kan ændre det.",
    "request_closed": "Henvendelsen er lukket.",
    "illegal_transition": "Det kan ikke lade sig gøre i forløbets nuværende status.",
    "training_alert_resolved": "Alarmen er allerede afsluttet.",
    "contact_person_changed": "Tovholderen er skiftet imens.",
    "stand_in_changed": "Stedfortræderen er skiftet imens.",
    "goal_cancelled": "Målet er annulleret.",
}
FALLBACK = FALLBACK_DANISH


def message(error: ApplicationError) -> str:
    return MESSAGES.get(error.code, MESSAGES["invalid"] if isinstance(error, InvalidInput) else FALLBACK)
