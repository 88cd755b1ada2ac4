"""The kinds of notification and their texts, Danish first and English second.

Inbox texts are what the recipient sees in the app after logging in; they still name no person and
no health detail, so a notification left in an inbox does not outlive the access it was sent under
(the app fetches the details, access-checked, from the ids in ``refs``). Push texts are shown on a
lock screen and are neutral: one sentence per category, no parameters at all.

Parameters are typed: ``int``, ``date``, ``datetime`` (shown in the municipality's time zone) or a
short ``str``; a template with ``count`` in it may have a singular variant for ``count == 1``.
"""

import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings

MAX_TEXT_PARAM_CHARACTERS = 60

DANISH_MONTHS = (
    "januar",
    "februar",
    "marts",
    "april",
    "maj",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "december",
)


@dataclass(frozen=True)
class PushText:
    da: str
    en: str


MESSAGE = PushText(da="Du har en ny besked i Mestring.", en="You have a new message in Mestring.")
REMINDER = PushText(da="Du har en påmindelse i Mestring.", en="You have a reminder in Mestring.")
ALERT = PushText(da="Der er noget, du skal se på i Mestring.", en="Something in Mestring needs your attention.")


@dataclass(frozen=True)
class Template:
    da: str
    en: str
    push: PushText = MESSAGE
    da_one: str = ""
    en_one: str = ""

    def fields(self) -> set[str]:
        names: set[str] = set()
        for text in (self.da, self.en, self.da_one, self.en_one):
            names.update(name for _, name, _, _ in string.Formatter().parse(text) if name)
        return names


KINDS: dict[str, Template] = {
    # To the citizen.
    "reminder.training": Template(da="Det er tid til din træning.", en="It is time for your training.", push=REMINDER),
    "reminder.questionnaire": Template(
        da="Husk at besvare dit spørgeskema.", en="Remember to answer your questionnaire.", push=REMINDER
    ),
    "session.encouragement": Template(
        da="Godt gået! Du har trænet {count} dage i træk.",
        en="Well done! You have trained {count} days in a row.",
        da_one="Godt gået! Din træning er registreret.",
        en_one="Well done! Your training has been recorded.",
    ),
    "encouragement.received": Template(da="Du har fået en opmuntring.", en="You have received some encouragement."),
    "goal.rated": Template(da="Et mål har fået en ny vurdering.", en="A goal has a new rating."),
    "request.answered": Template(da="Du har fået svar på din henvendelse.", en="Your request has been answered."),
    "questionnaire.due": Template(
        da="Du har et spørgeskema, der venter på dig.", en="A questionnaire is waiting for you.", push=REMINDER
    ),
    "episode.ending_soon": Template(da="Et forløb slutter {end_date}.", en="A course ends on {end_date}."),
    # To relatives and volunteers with the grant.
    "session.cheer": Template(
        da="En, du følger, har lige trænet. Send en opmuntring!",
        en="Someone you follow has just trained. Send some encouragement!",
    ),
    "reminder.training_relative": Template(
        da="En, du følger, har en træning på programmet nu.",
        en="Someone you follow has a training session scheduled now.",
        push=REMINDER,
    ),
    # To staff.
    "reminder.maintenance": Template(
        da="En enhed skal have service, testopkald eller batteritjek i dag.",
        en="A device is due for service, a test call or a battery check today.",
        push=REMINDER,
    ),
    "request.created": Template(
        da="En borger har skrevet en ny henvendelse.", en="A citizen has written a new request."
    ),
    "request.overdue": Template(
        da="En henvendelse har ventet for længe på svar.", en="A request has waited too long for an answer.", push=ALERT
    ),
    "training_alert.raised": Template(
        da="En træningsalarm venter på dig.", en="A training alert is waiting for you.", push=ALERT
    ),
    "device_alert.raised": Template(
        da="En alarm fra en enhed venter på dig.", en="A device alert is waiting for you.", push=ALERT
    ),
    "device_alert.acknowledged": Template(
        da="En alarm fra en enhed er kvitteret.", en="A device alert has been acknowledged."
    ),
    "device.offline": Template(
        da="En enhed har ikke sendt data i et stykke tid.", en="A device has not sent data for a while.", push=ALERT
    ),
    # Events for a team's live view only (no inbox text is shown for them).
    "session.logged": Template(da="En træning er registreret.", en="A training session has been logged."),
}


REMINDER_PREFIX = "reminder."


def is_urgent(kind: str) -> bool:
    """Alerts: their push goes out inside the recipient's quiet hours too."""
    template = KINDS.get(kind)
    return template is not None and template.push == ALERT


def is_reminder(kind: str) -> bool:
    """Reminders are scheduled ahead and can be muted, deferred by quiet hours and snoozed."""
    return kind.startswith(REMINDER_PREFIX) and kind in KINDS


@dataclass(frozen=True)
class Rendered:
    text_da: str
    text_en: str
    push_text_da: str
    push_text_en: str


class TemplateError(ValueError):
    """A kind that does not exist, or parameters that do not fit its template."""


def _format_date(value: date, language: str) -> str:
    if language == "da":
        return f"{value.day}. {DANISH_MONTHS[value.month - 1]} {value.year}"
    return f"{value.day} {value.strftime('%B')} {value.year}"


def _format(value: Any, language: str) -> str:
    if isinstance(value, bool):
        raise TemplateError("A parameter cannot be a boolean.")
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise TemplateError("A datetime parameter must be time-zone aware.")
        local = value.astimezone(ZoneInfo(settings.DEFAULT_CITIZEN_TIME_ZONE))
        time_of_day = local.strftime("%H.%M" if language == "da" else "%H:%M")
        joiner = " kl. " if language == "da" else " at "
        return f"{_format_date(local.date(), language)}{joiner}{time_of_day}"
    if isinstance(value, date):
        return _format_date(value, language)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and len(value) <= MAX_TEXT_PARAM_CHARACTERS:
        return value
    raise TemplateError(f"Unsupported parameter value of type {type(value).__name__}.")


def render(kind: str, params: Mapping[str, Any] | None = None) -> Rendered:
    """The texts of ``kind`` with ``params``; every parameter the template names is required, no other."""
    template = KINDS.get(kind)
    if template is None:
        raise TemplateError(f"Unknown notification kind {kind!r}.")
    given = dict(params or {})
    expected = template.fields()
    if set(given) != expected:
        raise TemplateError(f"{kind} takes the parameters {sorted(expected)}, got {sorted(given)}.")
    singular = given.get("count") == 1
    texts = {}
    for language in ("da", "en"):
        text = getattr(template, f"{language}_one") if singular else ""
        text = text or getattr(template, language)
        texts[language] = text.format_map({name: _format(value, language) for name, value in given.items()})
    return Rendered(
        text_da=texts["da"], text_en=texts["en"], push_text_da=template.push.da, push_text_en=template.push.en
    )
