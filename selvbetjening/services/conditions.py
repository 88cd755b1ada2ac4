"""The municipality's FSIII condition code list, loaded from the CSV file it supplies (``code;display;area``
a line): every line is checked first, and the list changes only if the whole file is good."""

import csv
from dataclasses import dataclass
from uuid import UUID

from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext

from selvbetjening.models import Condition, Goal

HEADERS = (["code", "display", "area"], ["kode", "navn", "område"])
DISPLAY_MAX = 200


@dataclass(frozen=True)
class ConditionRow:
    code: UUID
    display: str
    area: str


@dataclass(frozen=True)
class LoadResult:
    created: int
    updated: int
    deactivated: int


class ConditionFileError(Exception):
    """The file's problems, one Danish sentence a bad line; nothing was changed."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _areas() -> dict[str, str]:
    """An area by its key (``mobility``) or its Danish name (``Mobilitet``), in any case."""
    with translation.override("da"):
        names = {str(label).casefold(): value for value, label in Goal.Area.choices}
    return {**{value.casefold(): value for value in Goal.Area.values}, **names}


def _area_names() -> str:
    with translation.override("da"):
        return ", ".join(str(label) for label in Goal.Area.labels)


def condition_rows_parse(text: str) -> list[ConditionRow]:
    """The file's conditions; ``ConditionFileError`` naming every bad line if there is one."""
    areas = _areas()
    problems: list[str] = []
    rows: list[ConditionRow] = []
    seen: dict[UUID, int] = {}
    lines = [(number, cells) for number, cells in enumerate(csv.reader(text.splitlines(), delimiter=";"), 1)]
    lines = [(number, [cell.strip() for cell in cells]) for number, cells in lines if any(c.strip() for c in cells)]
    if lines and [cell.casefold() for cell in lines[0][1]] in HEADERS:
        lines = lines[1:]
    for number, cells in lines:
        if len(cells) != 3:
            problems.append(
                gettext(
                    "Linje %(line)s: der skal være tre felter adskilt af semikolon (kode;navn;område), ikke %(count)s."
                )
                % {"line": number, "count": len(cells)}
            )
            continue
        code_text, display, area_text = cells
        try:
            code = UUID(code_text)
        except ValueError:
            problems.append(
                gettext("Linje %(line)s: koden „%(code)s“ er ikke et UUID.") % {"line": number, "code": code_text}
            )
            continue
        if not display:
            problems.append(gettext("Linje %(line)s: tilstandens navn mangler.") % {"line": number})
        elif len(display) > DISPLAY_MAX:
            problems.append(
                gettext("Linje %(line)s: tilstandens navn er længere end %(max)s tegn.")
                % {"line": number, "max": DISPLAY_MAX}
            )
        area = areas.get(area_text.casefold())
        if area is None:
            problems.append(
                gettext("Linje %(line)s: området „%(area)s“ er ikke et FSIII-område; brug et af: %(areas)s.")
                % {"line": number, "area": area_text, "areas": _area_names()}
            )
        if code in seen:
            problems.append(
                gettext("Linje %(line)s: koden %(code)s står også på linje %(first)s.")
                % {"line": number, "code": code, "first": seen[code]}
            )
        seen.setdefault(code, number)
        if area is not None and display and len(display) <= DISPLAY_MAX:
            rows.append(ConditionRow(code=code, display=display, area=area))
    if not lines:
        problems.append(gettext("Filen indeholder ingen tilstande."))
    if problems:
        raise ConditionFileError(problems)
    return rows


@transaction.atomic
def conditions_load(rows: list[ConditionRow], *, complete: bool) -> LoadResult:
    """Create or update each condition by its code; with ``complete`` the file is the whole list, so a
    condition not in it is marked inactive (goals written with it keep their code and display)."""
    existing = {condition.code: condition for condition in Condition.objects.select_for_update()}
    created = updated = 0
    for row in rows:
        condition = existing.get(row.code)
        if condition is None:
            Condition.objects.create(code=row.code, display=row.display, area=row.area)
            created += 1
        elif (condition.display, condition.area, condition.active) != (row.display, row.area, True):
            condition.display, condition.area, condition.active = row.display, row.area, True
            condition.save(update_fields=["display", "area", "active"])
            updated += 1
    deactivated = 0
    if complete:
        listed = {row.code for row in rows}
        gone = [code for code, condition in existing.items() if condition.active and code not in listed]
        deactivated = Condition.objects.filter(code__in=gone).update(active=False)
    return LoadResult(created=created, updated=updated, deactivated=deactivated)
