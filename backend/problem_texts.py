"""What every problem code of the platform means to a person, in Danish (first) and English.

One catalogue for the API's problem titles, the staff pages and the citizen app: the API answers with the
code's title in the request's language (Danish unless ``Accept-Language`` asks for English), the pages show
the same words beside a field or above a form. Every code the platform can answer with has its Danish and
its English text here (tested by walking the source for codes). The details and field messages of a problem
are translated by ``backend.problem_details``.
"""

from django.utils.translation import get_language

from backend.context import request_language_var

DANISH: dict[str, str] = {
    # Input and the request itself
    "bad_request": "Forespørgslen kan ikke udføres.",
    "bad_content_length": "Forespørgslens længde er ugyldig.",
    "invalid": "Værdien kan ikke bruges. Ret den og prøv igen.",
    "validation_failed": "Noget er ikke udfyldt rigtigt. Ret det og prøv igen.",
    "out_of_range": "En dato eller et tal ligger uden for det mulige.",
    "payload_too_large": "Det sendte er for stort.",
    "image_too_large": "Billedet er for stort. Vælg et mindre billede.",
    "invalid_image": "Billedet kan ikke bruges. Brug et JPEG-, PNG- eller WebP-billede.",
    "too_many_images": "Øvelsen har allerede så mange billeder, som den kan have.",
    "unsupported_media_type": "Formatet kan ikke bruges.",
    "method_not_allowed": "Det kan ikke gøres her.",
    "import_failed": "Filen kunne ikke indlæses. Ret fejlene og prøv igen.",
    "idempotency_key_reused": "Nøglen til gentagelse er brugt til en anden forespørgsel.",
    "idempotency_in_flight": "Den første forespørgsel er stadig i gang. Prøv igen om et øjeblik.",
    "csrf_failed": "Siden er for gammel. Genindlæs den og prøv igen.",
    # Login and access
    "not_authenticated": "Du er logget ud. Log ind igen.",
    "forbidden": "Det har du ikke adgang til.",
    "not_found": "Det findes ikke, eller du har ikke adgang til det.",
    "invalid_credentials": "Forkert brugernavn, adgangskode eller engangskode.",
    "invalid_otp": "Engangskoden er forkert eller allerede brugt.",
    "locked_out": "Kontoen er spærret efter for mange forkerte forsøg. Prøv igen senere.",
    "rate_limited": "For mange forsøg. Vent lidt og prøv igen.",
    "account_disabled": "Kontoen er lukket.",
    "unknown_staff": "Der findes ingen medarbejderkonto til dette login.",
    "login_expired": "Login er udløbet eller allerede brugt. Start forfra.",
    "login_refused": "Log ind blev ikke gennemført hos identitetsudbyderen.",
    "login_provider_not_configured": "Log ind med denne udbyder er ikke sat op.",
    "password_login_disabled": "Log ind med adgangskode er slået fra.",
    "insufficient_assurance": "Log ind med MitID på et højere sikringsniveau.",
    "idp_mismatch": "Log ind kom fra en anden identitetsudbyder end forventet.",
    "idp_unavailable": "Identitetsudbyderen svarer ikke. Prøv igen om lidt.",
    "invalid_id_token": "Svaret fra identitetsudbyderen kunne ikke godkendes.",
    "invalid_grant": "Login-koden er ugyldig eller udløbet.",
    "invalid_refresh_token": "Login er ugyldigt. Log ind igen.",
    "refresh_token_expired": "Login er udløbet. Log ind igen.",
    "refresh_token_reused": "Login blev brugt to gange og er lukket af sikkerhedshensyn. Log ind igen.",
    "session_revoked": "Du er logget ud på denne enhed. Log ind igen.",
    "not_this_device": "Nøglen hører til en anden enhed.",
    # Races and state
    "conflict": "En anden har ændret det imens. Hent det igen og prøv igen.",
    "stale_version": "En anden har ændret dette imens. Her er den nuværende udgave.",
    "duplicate": "Der findes allerede en med denne værdi.",
    "duplicate_id": "Id'et er allerede brugt til noget andet.",
    "id_reused": "Registreringen er allerede sendt med andet indhold.",
    # Courses, goals, plans and training
    "episode_ended": "Forløbet er afsluttet.",
    "illegal_transition": "Det kan ikke lade sig gøre i den nuværende status.",
    "not_episode_team": "Kun medarbejdere i forløbets team kan ændre det.",
    "contact_person_changed": "Tovholderen er skiftet imens.",
    "stand_in_changed": "Stedfortræderen er skiftet imens.",
    "goal_cancelled": "Målet er annulleret.",
    "plan_ended": "Træningsplanen er afsluttet.",
    "plan_not_active": "Træningsplanen er ikke aktiv.",
    "slot_already_filled": "Denne træning er allerede registreret.",
    "slot_not_yet": "Denne træning kan ikke registreres endnu.",
    "slot_cancelled": "Denne træning er aflyst.",
    "training_alert_resolved": "Alarmen er allerede afsluttet.",
    "shared_exercise_read_only": "Det fælles øvelseskatalog kan ikke ændres; lav jeres egen udgave.",
    # Questionnaires, requests and the network
    "already_answered": "Spørgeskemaet er allerede besvaret.",
    "questionnaire_not_open": "Spørgeskemaet kan ikke besvares nu.",
    "questionnaire_withdrawn": "Spørgeskemaet er trukket tilbage.",
    "request_closed": "Henvendelsen er lukket.",
    "grant_revoked": "Adgangen er trukket tilbage.",
    "grant_accepted_concurrently": "Invitationen blev taget imod samtidig et andet sted. Prøv igen.",
    # Notifications
    "already_acknowledged": "Beskeden er allerede kvitteret.",
    "already_snoozed": "Påmindelsen er allerede udsat.",
    "not_a_reminder": "Kun en påmindelse kan udsættes.",
    # Welfare technology
    "consent_required": "En overvågende enhed kræver samtykke eller lovhjemmel og en revurderingsdato.",
    "device_not_in_stock": "Kun en enhed på lager kan tildeles.",
    "device_already_assigned": "Enheden er allerede tildelt en borger.",
    "device_assigned": "Enheden er stadig tildelt en borger. Registrér returneringen først.",
    "device_retired": "En kasseret enhed får ingen adgangsnøgle.",
    "use_assignment": "Reservation, installation og returnering sker gennem tildelingen.",
    "assignment_not_pending": "Tildelingen venter ikke på installation.",
    "assignment_ended": "Enheden er allerede returneret.",
    "already_completed": "Opgaven er allerede udført.",
    "alert_not_open": "Alarmen er allerede taget hånd om.",
    "not_citizens_own": "Vælg blandt borgerens egne igangværende forløb og deres mål.",
    "benchmark_not_joined": "Kommunen er ikke med i sammenligningen mellem kommuner. Tilmeld den først.",
    # The platform
    "database_unavailable": "Tjenesten er midlertidigt utilgængelig. Prøv igen om lidt.",
    "service_unavailable": "Tjenesten er midlertidigt utilgængelig. Prøv igen om lidt.",
    "internal_error": "Der skete en fejl hos os. Fejlen er logget.",
}

ENGLISH: dict[str, str] = {
    # Input and the request itself
    "bad_request": "The request cannot be carried out.",
    "bad_content_length": "The request's length is not valid.",
    "invalid": "The value cannot be used. Correct it and try again.",
    "validation_failed": "The request contains invalid data.",
    "out_of_range": "A date or number is out of range.",
    "payload_too_large": "The request body is too large.",
    "image_too_large": "The picture is too large. Choose a smaller one.",
    "invalid_image": "The picture cannot be used. Use a JPEG, PNG or WebP picture.",
    "too_many_images": "The exercise already has as many pictures as it can have.",
    "unsupported_media_type": "The format cannot be used.",
    "method_not_allowed": "This method is not allowed here.",
    "import_failed": "The file could not be imported. Correct the errors and try again.",
    "idempotency_key_reused": "The Idempotency-Key was used for another request.",
    "idempotency_in_flight": "The first request is still running. Try again in a moment.",
    "csrf_failed": "The page is too old. Reload it and try again.",
    # Login and access
    "not_authenticated": "Authentication is required.",
    "forbidden": "You do not have access to this.",
    "not_found": "Not found.",
    "invalid_credentials": "Wrong username, password or one-time code.",
    "invalid_otp": "The one-time code is wrong or already used.",
    "locked_out": "The account is locked after too many failed attempts. Try again later.",
    "rate_limited": "Too many attempts. Try again later.",
    "account_disabled": "The account is disabled.",
    "unknown_staff": "No staff account matches this login.",
    "login_expired": "The login has expired or was already used. Start again.",
    "login_refused": "The login was not completed with the identity provider.",
    "login_provider_not_configured": "Logging in with this provider is not set up.",
    "password_login_disabled": "Password login is turned off.",
    "insufficient_assurance": "Log in with MitID at a higher assurance level.",
    "idp_mismatch": "The login came from another identity provider than expected.",
    "idp_unavailable": "The identity provider does not answer. Try again shortly.",
    "invalid_id_token": "The identity provider's answer could not be accepted.",
    "invalid_grant": "The login code is invalid or expired.",
    "invalid_refresh_token": "The login is not valid. Log in again.",
    "refresh_token_expired": "The login has expired. Log in again.",
    "refresh_token_reused": "The login was used twice and is closed for safety. Log in again.",
    "session_revoked": "You are signed out on this device. Log in again.",
    "not_this_device": "The key belongs to another device.",
    # Races and state
    "conflict": "The request conflicts with the current state.",
    "stale_version": "Someone else changed this meanwhile. Here is the current version.",
    "duplicate": "One with this value already exists.",
    "duplicate_id": "The id is already used for something else.",
    "id_reused": "The record was already sent with other content.",
    # Courses, goals, plans and training
    "episode_ended": "The course has ended.",
    "illegal_transition": "That is not possible in the current status.",
    "not_episode_team": "Only staff of the course's team can change it.",
    "contact_person_changed": "The contact person changed meanwhile.",
    "stand_in_changed": "The stand-in changed meanwhile.",
    "goal_cancelled": "The goal is cancelled.",
    "plan_ended": "The training plan has ended.",
    "plan_not_active": "The training plan is not active.",
    "slot_already_filled": "This training is already recorded.",
    "slot_not_yet": "This training cannot be recorded yet.",
    "slot_cancelled": "This training is cancelled.",
    "training_alert_resolved": "The alert is already resolved.",
    "shared_exercise_read_only": "The shared exercise library cannot be changed; make your own copy.",
    # Questionnaires, requests and the network
    "already_answered": "The questionnaire is already answered.",
    "benchmark_not_joined": "The municipality is not in the benchmark between municipalities. Join it first.",
    "questionnaire_not_open": "The questionnaire cannot be answered now.",
    "questionnaire_withdrawn": "The questionnaire is withdrawn.",
    "request_closed": "The request is closed.",
    "grant_revoked": "The access has been withdrawn.",
    "grant_accepted_concurrently": "The invitation was accepted at the same time elsewhere. Try again.",
    # Notifications
    "already_acknowledged": "The message is already acknowledged.",
    "already_snoozed": "The reminder is already snoozed.",
    "not_a_reminder": "Only a reminder can be snoozed.",
    # Welfare technology
    "consent_required": "A surveillance-type device needs a consent or legal basis and a review date.",
    "device_not_in_stock": "Only a device in stock can be assigned.",
    "device_already_assigned": "The device is already assigned to a citizen.",
    "device_assigned": "The device is still assigned to a citizen. Record the return first.",
    "device_retired": "A retired device gets no credentials.",
    "use_assignment": "Reserve, install and return a device through its assignment.",
    "assignment_not_pending": "The assignment is not waiting for installation.",
    "assignment_ended": "The device has already been returned.",
    "already_completed": "The task is already done.",
    "alert_not_open": "The alert has already been dealt with.",
    "not_citizens_own": "Choose among the citizen's own running courses and their goals.",
    # The platform
    "database_unavailable": "The service is temporarily unavailable. Try again shortly.",
    "service_unavailable": "The service is temporarily unavailable. Try again shortly.",
    "internal_error": "Something went wrong on our side. The error is logged.",
}

# Titles by HTTP status, for a code without a text of its own.
DANISH_BY_STATUS: dict[int, str] = {
    400: DANISH["bad_request"],
    401: DANISH["not_authenticated"],
    403: DANISH["forbidden"],
    404: DANISH["not_found"],
    405: DANISH["method_not_allowed"],
    409: DANISH["conflict"],
    413: DANISH["payload_too_large"],
    415: DANISH["unsupported_media_type"],
    422: DANISH["validation_failed"],
    429: DANISH["rate_limited"],
    500: DANISH["internal_error"],
    503: DANISH["service_unavailable"],
}
FALLBACK_DANISH = "Det lykkedes ikke. Prøv igen, eller kontakt support."


def danish(code: str, status: int | None = None) -> str:
    """The Danish text of a problem code (by its HTTP status when the code has none of its own)."""
    return DANISH.get(code) or DANISH_BY_STATUS.get(status or 0) or FALLBACK_DANISH


def english(code: str, fallback: str) -> str:
    """The English text of a problem code (``fallback`` for a code without one)."""
    return ENGLISH.get(code) or fallback


def language() -> str:
    """The language problems are said in: the request's (read by the first middleware, before any answer can
    be given), else the active one; Danish unless English was asked for."""
    asked = request_language_var.get() or get_language() or "da"
    return "en" if asked.startswith("en") else "da"


def title_for(code: str, status: int, english_title: str) -> str:
    """The problem's title in the request's language: Danish unless English was asked for."""
    return english(code, english_title) if language() == "en" else danish(code, status)
