"""The problem catalogue the citizen app speaks: the API's problem codes in Danish and English.

The platform's catalogue (``backend.problem_texts``) is the base; the app says some of them in a
citizen's words and adds what only the app meets. The app shows ``MESSAGES[lang][code]`` and falls
back to the generic text.
"""

from backend.problem_texts import DANISH as PLATFORM_DANISH
from backend.problem_texts import FALLBACK_DANISH as FALLBACK

DANISH: dict[str, str] = {
    **PLATFORM_DANISH,
    "not_found": "Det findes ikke længere, eller du har ikke adgang til det.",
    "not_authenticated": "Du er logget ud. Log ind igen.",
    "csrf_failed": "Siden er for gammel. Genindlæs den og prøv igen.",
    "forbidden": "Det har du ikke adgang til.",
    "validation_failed": "Noget er ikke udfyldt rigtigt. Ret det og prøv igen.",
    "slot_already_filled": "Denne træning er allerede registreret.",
    "slot_not_yet": "Denne træning kan ikke registreres endnu.",
    "slot_cancelled": "Denne træning er aflyst.",
    "id_reused": "Registreringen er allerede sendt med andet indhold.",
    "already_answered": "Spørgeskemaet er allerede besvaret.",
    "questionnaire_not_open": "Spørgeskemaet kan ikke besvares nu.",
    "grant_revoked": "Adgangen er trukket tilbage.",
    "payload_too_large": "Billedet er for stort. Vælg et mindre billede.",
    "unsupported_media_type": "Billedet kan ikke bruges. Brug et JPEG-, PNG- eller WebP-billede.",
    "invitation_invalid": "Koden kan ikke bruges. Den er forkert, brugt eller udløbet.",
    "network": "Der er ingen forbindelse. Prøv igen, når du er på nettet.",
    "fallback": FALLBACK,
}
ENGLISH: dict[str, str] = {
    "invalid": "The value cannot be used. Correct it and try again.",
    "invalid_credentials": "Wrong username, password or one-time code.",
    "locked_out": "The account is locked after too many wrong attempts. Try again later.",
    "rate_limited": "Too many attempts. Wait a little and try again.",
    "account_disabled": "The account is closed.",
    "login_expired": "The login has run out or was already used. Start again.",
    "login_refused": "The login was not completed with the identity provider.",
    "not_found": "It no longer exists, or you do not have access to it.",
    "not_authenticated": "You are logged out. Log in again.",
    "csrf_failed": "The page is too old. Reload it and try again.",
    "forbidden": "You do not have access to that.",
    "validation_failed": "Something is not filled in correctly. Correct it and try again.",
    "episode_ended": "The course has ended.",
    "plan_ended": "The training plan has ended.",
    "plan_not_active": "The training plan is not active.",
    "request_closed": "The request is closed.",
    "goal_cancelled": "The goal is cancelled.",
    "slot_already_filled": "This training is already recorded.",
    "slot_not_yet": "This training cannot be recorded yet.",
    "slot_cancelled": "This training is cancelled.",
    "id_reused": "This record was already sent with other content.",
    "already_answered": "The questionnaire is already answered.",
    "questionnaire_not_open": "The questionnaire cannot be answered now.",
    "grant_revoked": "The access has been withdrawn.",
    "payload_too_large": "The picture is too large. Choose a smaller one.",
    "unsupported_media_type": "The picture cannot be used. Use a JPEG, PNG or WebP picture.",
    "invitation_invalid": "The code cannot be used. It is wrong, used or expired.",
    "network": "There is no connection. Try again when you are online.",
    "fallback": "That did not work. Try again, or contact support.",
}
MESSAGES = {"da": DANISH, "en": ENGLISH}
