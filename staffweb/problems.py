"""The API's problem codes as the pages say them: Danish, beside the field or above the form; in English
when the staff member switched the pages to English."""

from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_noop as _

from backend import problem_details
from backend.errors import ApplicationError, InvalidInput
from backend.problem_texts import DANISH, FALLBACK_DANISH

# What the staff pages say in their own words.
STAFF_MESSAGES: dict[str, str] = {
    "invalid": _("Værdien kan ikke bruges. Ret den og prøv igen."),
    "invalid_credentials": _("Forkert brugernavn, adgangskode eller engangskode."),
    "locked_out": _("Kontoen er spærret efter for mange forkerte forsøg. Prøv igen senere."),
    "rate_limited": _("For mange forsøg. Vent lidt og prøv igen."),
    "account_disabled": _("Kontoen er lukket."),
    "unknown_staff": _("Der findes ingen medarbejderkonto til dette login."),
    "login_expired": _("Login er udløbet eller allerede brugt. Start forfra."),
    "login_refused": _("Log ind blev ikke gennemført hos identitetsudbyderen."),
    "not_found": _("Siden findes ikke."),
    "stale_version": _("En anden har ændret dette imens. Her er den nuværende udgave."),
    "episode_ended": _("Forløbet er afsluttet."),
    "plan_ended": _("Træningsplanen er afsluttet."),
    "plan_not_active": _("Træningsplanen er ikke aktiv."),
    "not_episode_team": _("Kun medarbejdere i forløbets team kan ændre det."),
    "request_closed": _("Henvendelsen er lukket."),
    "illegal_transition": _("Det kan ikke lade sig gøre i forløbets nuværende status."),
    "training_alert_resolved": _("Alarmen er allerede afsluttet."),
    "contact_person_changed": _("Tovholderen er skiftet imens."),
    "stand_in_changed": _("Stedfortræderen er skiftet imens."),
    "goal_cancelled": _("Målet er annulleret."),
}
# The platform's catalogue, with the staff pages' own words over it.
MESSAGES: dict[str, str] = {**DANISH, **STAFF_MESSAGES}
FALLBACK = FALLBACK_DANISH


def _english() -> bool:
    return (get_language() or "da").startswith("en")


def text(code: str) -> str:
    """One of the staff pages' own messages in the page's language."""
    return gettext(MESSAGES[code])


def message(error: ApplicationError) -> str:
    """A service's refusal in the page's language: the staff pages' own words for its code where they have them;
    else the platform's message, in English as the service words it or in its Danish from the platform's
    catalogue (``backend.problem_details``), and the code's Danish text when the catalogue has none."""
    code = error.code if error.code in MESSAGES else "invalid" if isinstance(error, InvalidInput) else ""
    if code in STAFF_MESSAGES and not (code == "invalid" and _detail_is_specific(error)):
        return gettext(MESSAGES[code])
    detail = detail_of(error)
    if _english():
        return detail[:1].upper() + detail[1:]
    translated = problem_details.danish_message(detail)
    if translated is not None:
        return translated[:1].upper() + translated[1:]
    return MESSAGES.get(code, FALLBACK)


def detail_of(error: ApplicationError) -> str:
    """The error's own message: a field error's without the field's name in front."""
    if isinstance(error, InvalidInput):
        field, separator, rest = str(error.detail).partition(": ")
        if separator and field == error.field:
            return rest
    return str(error.detail)


def _detail_is_specific(error: ApplicationError) -> bool:
    """A field error the platform's catalogue words (then that, rather than "the value cannot be used")."""
    return problem_details.danish_message(detail_of(error)) is not None
