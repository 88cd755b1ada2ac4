"""Adherence: scheduled slots filled ÷ slots due over a window of local dates, streaks and series.

Which slots are due, filled, overdue or upcoming is decided by ``rules.slots``. Sessions done ad hoc,
outside the schedule, count as activity but never fill a slot.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from statistics import fmean
from uuid import UUID
from zoneinfo import ZoneInfo

from django.db.models import Count, DateTimeField, OuterRef, Prefetch, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from backend.actors import Actor
from backend.errors import InvalidInput
from backend.models import Citizen
from backend.timeutil import municipal_today
from selvbetjening.models import Goal, GoalRating, SessionLog, TrainingSlot
from selvbetjening.rules.slots import DUE, FILLED, OVERDUE, UPCOMING, ratio
from selvbetjening.selectors.episodes import episodes_visible_to

Status = TrainingSlot.Status

DEFAULT_WINDOW_DAYS = 28
MAX_WINDOW_DAYS = 366
# Before any slot can exist; the streak subquery compares with it when a citizen never missed one.
NEVER = datetime(1900, 1, 1, tzinfo=UTC)


# --- The streak ---------------------------------------------------------------------------------


def slot_streak(now: datetime) -> Coalesce:
    """The citizen's current run of done slots: those scheduled after the latest missed (or overdue)
    slot, pending slots not yet due ignored. An annotation for a ``Citizen`` queryset; one correlated
    subquery over the citizen's whole history."""
    latest_break = (
        TrainingSlot.objects.filter(OVERDUE.q(now), citizen=OuterRef("citizen"))
        .order_by("-scheduled_at")
        .values("scheduled_at")[:1]
    )
    # The status is counted, not filtered on, so that the rows are found through the citizen's index
    # rather than through the status index (every citizen's done slots).
    done_since = (
        TrainingSlot.objects.filter(
            citizen=OuterRef("pk"),
            scheduled_at__gt=Coalesce(Subquery(latest_break), Value(NEVER, output_field=DateTimeField())),
        )
        .order_by()
        .values("citizen")
        .annotate(count=Count("pk", filter=FILLED.q(now)))
        .values("count")[:1]
    )
    return Coalesce(Subquery(done_since), 0)


# --- The window ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """Local dates from ``start`` to ``end``, both included."""

    start: date
    end: date

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=offset) for offset in range((self.end - self.start).days + 1)]

    def instants(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """The UTC instants the window's local days cover in ``zone``: [first, after), DST-correct."""
        first = datetime.combine(self.start, time.min, tzinfo=zone).astimezone(UTC)
        after = datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=zone).astimezone(UTC)
        return first, after


def window_for(start: date | None, end: date | None, *, today: date | None = None) -> Window:
    """The window asked for: up to today and 28 days long by default, at most 366 days (422 naming the
    field otherwise)."""
    end = end or today or municipal_today()
    start = start or end - timedelta(days=DEFAULT_WINDOW_DAYS - 1)
    if end < start:
        raise InvalidInput("to", "must not be before from.")
    if (end - start).days + 1 > MAX_WINDOW_DAYS:
        raise InvalidInput("from", f"must be at most {MAX_WINDOW_DAYS} days before to (both included).")
    return Window(start, end)


# --- Figures ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionPoint:
    """One logged session as the trends show it."""

    id: UUID
    performed_at: datetime
    day: date
    pain_before: int | None
    pain_after: int | None
    effort: int | None
    is_ad_hoc: bool


def _mean(values: Iterable[int | None]) -> float | None:
    present = [value for value in values if value is not None]
    return round(fmean(present), 2) if present else None


@dataclass
class Figures:
    """Adherence and activity over a span of days (one day, an ISO week, the window)."""

    scheduled: int = 0
    filled: int = 0
    missed: int = 0
    upcoming: int = 0
    sessions: list[SessionPoint] = field(default_factory=list)

    @property
    def adherence(self) -> float | None:
        return ratio(self.filled, self.scheduled)

    @property
    def session_count(self) -> int:
        return len(self.sessions)

    @property
    def ad_hoc_sessions(self) -> int:
        return sum(1 for session in self.sessions if session.is_ad_hoc)

    @property
    def pain_before_mean(self) -> float | None:
        return _mean(session.pain_before for session in self.sessions)

    @property
    def pain_after_mean(self) -> float | None:
        return _mean(session.pain_after for session in self.sessions)

    @property
    def effort_mean(self) -> float | None:
        return _mean(session.effort for session in self.sessions)

    def add(self, other: "Figures") -> None:
        self.scheduled += other.scheduled
        self.filled += other.filled
        self.missed += other.missed
        self.upcoming += other.upcoming
        self.sessions.extend(other.sessions)


@dataclass
class DayFigures(Figures):
    day: date = date.min


@dataclass
class WeekFigures(Figures):
    iso_year: int = 0
    iso_week: int = 0
    first_day: date = date.min
    last_day: date = date.min


@dataclass
class Adherence:
    """A citizen's training over a window: totals, streaks and per-day and per-ISO-week series."""

    window: Window
    total: Figures
    days: list[DayFigures]
    weeks: list[WeekFigures]
    streak_slots: int
    streak_days: int


def _day_streak(days: list[DayFigures]) -> int:
    """Consecutive days with at least one session, counted back from the window's last day; a last day
    without one yet does not break the run (the day may not be over)."""
    run = 0
    for position, figures in enumerate(reversed(days)):
        if figures.session_count:
            run += 1
        elif position:
            break
    return run


def _weeks(days: list[DayFigures]) -> list[WeekFigures]:
    weeks: dict[tuple[int, int], WeekFigures] = {}
    for figures in days:
        iso = figures.day.isocalendar()
        week = weeks.get((iso.year, iso.week))
        if week is None:
            week = weeks[(iso.year, iso.week)] = WeekFigures(
                iso_year=iso.year, iso_week=iso.week, first_day=figures.day, sessions=[]
            )
        week.last_day = figures.day
        week.add(figures)
    return list(weeks.values())


def adherence_of(
    slots: QuerySet[TrainingSlot],
    sessions: QuerySet[SessionLog],
    *,
    citizen: Citizen,
    window: Window,
    now: datetime | None = None,
) -> Adherence:
    """Adherence of ``citizen`` over ``window`` from the given slots and sessions (already narrowed to
    what the caller may see). Three queries: the slots per day, the sessions, the slot streak."""
    now = now or timezone.now()
    zone = ZoneInfo(citizen.time_zone)
    per_day = (
        slots.filter(citizen=citizen, local_date__range=(window.start, window.end))
        .exclude(status=Status.CANCELLED)
        .order_by()
        .values("local_date")
        .annotate(
            due=Count("pk", filter=DUE.q(now)),
            filled=Count("pk", filter=FILLED.q(now)),
            missed=Count("pk", filter=OVERDUE.q(now)),
            upcoming=Count("pk", filter=UPCOMING.q(now)),
        )
    )
    days = {day: DayFigures(day=day, sessions=[]) for day in window.days}
    for row in per_day:
        figures = days[row["local_date"]]
        figures.scheduled, figures.filled = row["due"], row["filled"]
        figures.missed, figures.upcoming = row["missed"], row["upcoming"]
    first, after = window.instants(zone)
    logged = (
        sessions.filter(citizen=citizen, performed_at__gte=first, performed_at__lt=after)
        .order_by("performed_at", "id")
        .values_list("id", "performed_at", "pain_before", "pain_after", "effort", "slot_id")
    )
    for session_id, performed_at, pain_before, pain_after, effort, slot_id in logged:
        day = performed_at.astimezone(zone).date()
        days[day].sessions.append(
            SessionPoint(session_id, performed_at, day, pain_before, pain_after, effort, slot_id is None)
        )
    streak = Citizen.objects.filter(pk=citizen.pk).annotate(streak=slot_streak(now)).values_list("streak", flat=True)
    series = list(days.values())
    total = Figures(sessions=[])
    for figures in series:
        total.add(figures)
    return Adherence(
        window=window,
        total=total,
        days=series,
        weeks=_weeks(series),
        streak_slots=streak.first() or 0,
        streak_days=_day_streak(series),
    )


def citizen_adherence(citizen: Citizen, window: Window, *, now: datetime | None = None) -> Adherence:
    """All of the citizen's slots and sessions, from every plan: for callers that may see the citizen."""
    return adherence_of(TrainingSlot.objects.all(), SessionLog.objects.all(), citizen=citizen, window=window, now=now)


# --- Goal ratings over time ---------------------------------------------------------------------


def goal_trends(actor: Actor, citizen: Citizen, window: Window) -> list[Goal]:
    """The citizen's goals (not cancelled) in the episodes ``actor`` sees, with their ratings in the
    window, oldest first, on ``window_ratings``. Two queries."""
    in_window = GoalRating.objects.filter(rated_on__range=(window.start, window.end)).order_by("rated_on", "created_at")
    goals = Goal.objects.filter(episode__in=episodes_visible_to(actor), episode__citizen=citizen)
    return list(
        goals.exclude(lifecycle_status=Goal.LifecycleStatus.CANCELLED)
        .select_related("episode")
        .prefetch_related(Prefetch("ratings", queryset=in_window, to_attr="window_ratings"))
        .order_by("episode__start_date", "episode_id", "rank", "created_at")
    )
