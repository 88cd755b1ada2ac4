"""Words for codes, as the staff pages show them (traffic light and reasons always in words too)."""

from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.dates import MONTHS, MONTHS_3
from django.utils.translation import gettext_lazy as _

from backend.access import grant_in_force, grant_scopes
from backend.access.rules import Moments
from selvbetjening.rules.schedule import weekly_times_of
from selvbetjening.selectors.caseload import CaseloadRow

LIGHT_WORDS = {"red": _("Kræver handling"), "yellow": _("Hold øje"), "green": _("I gang")}
REASON_WORDS = {
    "pain_alert": _("Smertealarm"),
    "missed_training_alert": _("Træning ikke gennemført flere gange i træk"),
    "adherence_below_red": _("Under halvdelen af træningerne gennemført"),
    "adherence_below_yellow": _("Under 80 % af træningerne gennemført"),
    "pain_rising": _("Stigende smerte"),
    "no_recent_activity": _("Ingen træning i en uge"),
    "request_overdue": _("Henvendelse ikke besvaret til tiden"),
    "questionnaire_overdue": _("Spørgeskema ikke besvaret"),
    "episode_ending_soon": _("Forløbet slutter inden for en uge"),
    "device_fall": _("Faldalarm fra hjælpemiddel"),
    "device_offline": _("Hjælpemiddel sender ikke livstegn"),
    "device_battery_low": _("Lavt batteri på hjælpemiddel"),
}
# A device's own alert on the work list, by its kind: the reason the triage card gives for it.
DEVICE_TROUBLE_REASONS = {"heartbeat": "device_offline", "battery": "device_battery_low"}
PAIN_TREND_WORDS = {"rising": _("stigende"), "falling": _("faldende"), "stable": _("stabil"), "unknown": _("ukendt")}


@dataclass(frozen=True)
class TriageCard:
    row: CaseloadRow
    light_words: str
    reasons: list[str]
    pain_trend_words: str

    @property
    def adherence_percent(self) -> int | None:
        return None if self.row.adherence is None else round(self.row.adherence * 100)

    @property
    def last_activity_text(self) -> str:
        """As the date filter's "j. M H:i" says it, written directly: the list shows one per card."""
        if self.row.last_activity is None:
            return ""
        local = timezone.localtime(self.row.last_activity)
        return f"{local.day}. {str(MONTHS_3[local.month]).title()} {local:%H:%M}"

    @property
    def episode_ends_text(self) -> str:
        ends = self.row.episode_ends_on
        return "" if ends is None else f"{ends.day}. {MONTHS[ends.month]} {ends.year}"

    @property
    def url(self) -> str:
        return reverse("staffweb:citizen", args=[self.row.citizen.pk])

    @property
    def pain_recent(self) -> str:
        return "–" if self.row.pain_recent is None else f"{float(self.row.pain_recent):.1f}".replace(".", ",")


def triage_cards(rows: list[CaseloadRow]) -> list[TriageCard]:
    return [
        TriageCard(
            row=row,
            light_words=str(LIGHT_WORDS[row.light]),
            reasons=[str(REASON_WORDS.get(reason, reason)) for reason in row.reasons],
            pain_trend_words=str(PAIN_TREND_WORDS[row.pain_trend]),
        )
        for row in rows
    ]


@dataclass(frozen=True)
class DeviceTrouble:
    """A device placed with a citizen in care that is silent or low on battery, in the triage card's words."""

    citizen: Any
    device: Any
    words: str
    since: datetime

    @property
    def url(self) -> str:
        """The citizen page at its devices: which one, and when it was last heard from."""
        return reverse("staffweb:citizen", args=[self.citizen.pk]) + "#devices-heading"


def device_troubles(pairs: list[tuple[Any, Any]]) -> list[DeviceTrouble]:
    return [
        DeviceTrouble(
            citizen=assignment.citizen,
            device=alert.device,
            words=str(REASON_WORDS[DEVICE_TROUBLE_REASONS[alert.kind]]),
            since=alert.opened_at,
        )
        for alert, assignment in pairs
    ]


def number(value: Any, decimals: int = 1) -> str:
    """A number the Danish way (decimal comma); a dash for none."""
    if value is None:
        return "–"
    return f"{float(value):.{decimals}f}".replace(".", ",")


# --- The training plan's history, network and devices ---------------------------------------------

DECISION_REASON_WORDS = {
    "criteria_met": _("De seneste træninger var uden for meget smerte og med passende anstrengelse"),
    "not_enough_sessions": _("Ikke nok træninger på den nuværende dosering endnu"),
    "pain_above_threshold": _("Smerten var over grænsen for progression"),
    "effort_outside_band": _("Anstrengelsen lå uden for det aftalte interval"),
    "not_reported": _("Smerte eller anstrengelse blev ikke angivet"),
    "dosage_at_maximum": _("Doseringen er allerede på det højeste"),
    "pain_at_stop_level": _("Smerten nåede stopgrænsen"),
    "session_stopped_by_pain": _("Træningen blev stoppet på grund af smerte i en anden øvelse"),
}
WEEKDAYS = (
    ("MO", _("mandag")),
    ("TU", _("tirsdag")),
    ("WE", _("onsdag")),
    ("TH", _("torsdag")),
    ("FR", _("fredag")),
    ("SA", _("lørdag")),
    ("SU", _("søndag")),
)
SCOPE_WORDS = {
    "view_progress": _("se fremskridt"),
    "receive_reminders": _("få påmindelser"),
    "log_sessions": _("registrere træning"),
    "send_encouragement": _("sende opmuntringer"),
}


def decision_reason(reason: str) -> str:
    return str(DECISION_REASON_WORDS.get(reason, reason))


def _listed(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    conjunction = _("og")
    return f"{', '.join(words[:-1])} {conjunction} {words[-1]}"


def schedule_words(rule: str, start_time: time) -> str:
    """A plan version's recurrence rule in words ("mandag, onsdag og fredag kl. 10:00") where it trains on
    whole weekdays at fixed times (``rules.schedule.weekly_times_of``); the rule itself otherwise."""
    read = weekly_times_of(rule, start_time)
    if read is None:
        return rule
    days, times = read
    names = dict(WEEKDAYS)
    when = _listed([str(names[code]) for code in days]) if len(days) < len(WEEKDAYS) else str(_("hver dag"))
    at = _("kl.")
    return f"{when} {at} {_listed([value.strftime('%H:%M') for value in times])}"


@dataclass(frozen=True)
class GrantLine:
    grant: Any
    name: str
    scopes: list[str]
    state: str


def network_lines(grants: list[Any], now: datetime) -> list[GrantLine]:
    """Each person the citizen let in: who, what they may do, and whether the access is in force."""
    lines = []
    moments = Moments(now=now)
    for grant in grants:
        if grant_in_force(grant, moments):
            state = str(_("Aktiv"))
        elif grant.revoked_at is not None:
            state = str(_("Tilbagekaldt"))
        else:
            state = str(_("Udløbet"))
        scopes = [str(SCOPE_WORDS.get(scope, scope)) for scope in grant_scopes(grant)]
        lines.append(GrantLine(grant, grant.label or grant.relative.user.display_name, scopes, state))
    return lines
