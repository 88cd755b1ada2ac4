"""Words for codes, as the staff pages show them (traffic light and reasons always in words too)."""

from dataclasses import dataclass
from typing import Any

from selvbetjening.selectors.caseload import CaseloadRow

LIGHT_WORDS = {"red": "Kræver handling", "yellow": "Hold øje", "green": "I gang"}
REASON_WORDS = {
    "pain_alert": "Smertealarm",
    "missed_training_alert": "Træning ikke gennemført flere gange i træk",
    "adherence_below_red": "Under halvdelen af træningerne gennemført",
    "adherence_below_yellow": "Under 80 % af træningerne gennemført",
    "pain_rising": "Stigende smerte",
    "no_recent_activity": "Ingen træning i en uge",
    "request_overdue": "Henvendelse ikke besvaret til tiden",
    "questionnaire_overdue": "Spørgeskema ikke besvaret",
    "episode_ending_soon": "Forløbet slutter inden for en uge",
    "device_fall": "Faldalarm fra hjælpemiddel",
    "device_offline": "Hjælpemiddel sender ikke livstegn",
    "device_battery_low": "Lavt batteri på hjælpemiddel",
}
PAIN_TREND_WORDS = {"rising": "stigende", "falling": "faldende", "stable": "stabil", "unknown": "ukendt"}


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
    def pain_recent(self) -> str:
        return "–" if self.row.pain_recent is None else f"{float(self.row.pain_recent):.1f}".replace(".", ",")


def triage_cards(rows: list[CaseloadRow]) -> list[TriageCard]:
    return [
        TriageCard(
            row=row,
            light_words=LIGHT_WORDS[row.light],
            reasons=[REASON_WORDS.get(reason, reason) for reason in row.reasons],
            pain_trend_words=PAIN_TREND_WORDS[row.pain_trend],
        )
        for row in rows
    ]


def number(value: Any, decimals: int = 1) -> str:
    """A number the Danish way (decimal comma); a dash for none."""
    if value is None:
        return "–"
    return f"{float(value):.{decimals}f}".replace(".", ",")
