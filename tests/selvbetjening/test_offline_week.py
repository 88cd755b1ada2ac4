"""The issue's "done when": a phone goes offline for a week of training, uploads its sessions twice over a
flaky network, syncs twice, and nothing is lost or doubled."""

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from selvbetjening.models import ProgressionDecision, SessionLog, SessionLogExercise, TrainingPlan, TrainingSlot
from selvbetjening.selectors.adherence import citizen_adherence, window_for
from selvbetjening.selectors.today import citizen_today
from selvbetjening.services import sessions as session_services
from selvbetjening.services.slots import slots_mark_missed, slots_materialise
from tests.selvbetjening.test_sessions import session_body
from tests.selvbetjening.training_factories import make_plan

KINDS = ("plans", "exercises", "goals", "slots", "session_logs")


class Phone:
    """The app's offline store: upserts what sync sends, by id, keeping the newest version."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.cursor: str | None = None
        self.store: dict[str, dict[str, dict[str, Any]]] = {kind: {} for kind in KINDS}
        self.received: dict[str, int] = dict.fromkeys(KINDS, 0)

    def sync(self) -> None:
        while True:
            response = self.client.get("/api/v1/me/sync", {"cursor": self.cursor} if self.cursor else {})
            assert response.status_code == 200, response.content
            body = response.json()
            for kind in KINDS:
                for item in body[kind]:
                    self.received[kind] += 1
                    kept = self.store[kind].get(item["id"])
                    if kept is None or item.get("version", 0) >= kept.get("version", 0):
                        self.store[kind][item["id"]] = item
            self.cursor = body["cursor"]
            if not body["has_more"]:
                return


@pytest.mark.django_db
def test_a_week_offline_is_uploaded_twice_and_synced_twice_without_losing_or_doubling(world, episode, monkeypatch):
    evaluated: list[uuid.UUID] = []
    real_evaluate = session_services.progression_evaluate

    def counting(*, session_log):  # type: ignore[no-untyped-def]
        evaluated.append(session_log.pk)
        return real_evaluate(session_log=session_log)

    monkeypatch.setattr(session_services, "progression_evaluate", counting)

    # Monday, Wednesday and Friday at 10:00: one of each in the week just gone.
    now = timezone.now()
    plan = make_plan(episode=episode, exercises=3, recurrence_rule="FREQ=WEEKLY;BYDAY=MO,WE,FR")
    TrainingPlan.objects.filter(pk=plan.pk).update(slots_until=now - timedelta(days=7))
    plan.refresh_from_db()
    slots_materialise(plan=plan, until=now + timedelta(days=7), now=now - timedelta(days=7))
    week = list(TrainingSlot.objects.filter(plan=plan, scheduled_at__lte=now).order_by("scheduled_at"))
    assert len(week) == 3
    first, second, third = week

    phone = Phone(world.client("citizen"))
    phone.sync()
    assert set(phone.store["slots"]) >= {str(slot.pk) for slot in week}

    # Offline: the phone keeps its logs; meanwhile the platform's sweep marks the slots missed.
    assert slots_mark_missed(now=now) >= 2

    def on_the_day(slot: TrainingSlot) -> str:
        return min(slot.scheduled_at + timedelta(minutes=20), now - timedelta(seconds=30)).isoformat()

    offline_logs = [
        session_body(plan, slot=first, performed_at=on_the_day(first), pain_after=2, effort=4),
        session_body(plan, performed_at=(first.scheduled_at + timedelta(days=1)).isoformat(), note="Ekstra gåtur"),
        session_body(plan, slot=third, performed_at=on_the_day(third), pain_before=1, pain_after=1),
        session_body(plan, performed_at=(now - timedelta(hours=2)).isoformat(), effort=3),
    ]
    # The daughter, with the logging grant, logs the middle session from her own phone.
    by_relative = session_body(plan, slot=second, performed_at=on_the_day(second))
    relative = world.client("relative_with_consent").post(
        f"/api/v1/relative/citizens/{world.citizen.pk}/session-logs", by_relative
    )
    assert relative.status_code == 201, relative.content

    # Back online: the batch goes up, the answer is lost on the way back, and the phone sends it again.
    first_try = phone.client.post("/api/v1/me/session-logs/batch", {"items": offline_logs})
    second_try = phone.client.post("/api/v1/me/session-logs/batch", {"items": offline_logs})

    assert [result["status"] for result in first_try.json()["results"]] == ["created"] * 4
    assert [result["status"] for result in second_try.json()["results"]] == ["unchanged"] * 4
    assert [result["session_log"] for result in second_try.json()["results"]] == [
        result["session_log"] for result in first_try.json()["results"]
    ]
    expected_ids = {body["id"] for body in [*offline_logs, by_relative]}
    assert {str(pk) for pk in SessionLog.objects.values_list("id", flat=True)} == expected_ids
    assert SessionLogExercise.objects.count() == 5 * 3
    # The batch's sessions are evaluated together (progression_evaluate_batch), the retry not again.
    assert evaluated == [uuid.UUID(by_relative["id"])], "progression at most once per session"
    assert not ProgressionDecision.objects.exists()

    # Two syncs: the phone ends with exactly the server's truth.
    phone.sync()
    phone.sync()
    logs = phone.store["session_logs"]
    assert set(logs) == expected_ids
    assert logs[by_relative["id"]]["logged_by_role"] == "relative"
    assert logs[offline_logs[1]["id"]]["is_ad_hoc"] is True
    slots = phone.store["slots"]
    for slot, body in ((first, offline_logs[0]), (second, by_relative), (third, offline_logs[2])):
        assert (slots[str(slot.pk)]["status"], slots[str(slot.pk)]["session_log_id"]) == ("done", body["id"])
        assert logs[body["id"]]["is_late"] is False, "done on the day, though uploaded after the sweep"

    # Adherence: three of three slots filled, two sessions besides; nothing counted twice.
    assert (
        list(TrainingSlot.objects.filter(pk__in=[s.pk for s in week]).values_list("status", flat=True)) == ["done"] * 3
    )
    today = citizen_today(world.citizen, now)
    figures = citizen_adherence(world.citizen, window_for(today - timedelta(days=7), today), now=now).total
    assert (figures.scheduled, figures.filled, figures.missed) == (3, 3, 0)
    assert (figures.session_count, figures.ad_hoc_sessions) == (5, 2)

    # An edit on the phone after sync; a second one queued with the old version is refused.
    synced = logs[offline_logs[0]["id"]]
    edit = phone.client.patch(
        f"/api/v1/me/session-logs/{synced['id']}", {"version": synced["version"], "note": "Knæet drillede"}
    )
    stale = phone.client.patch(
        f"/api/v1/me/session-logs/{synced['id']}", {"version": synced["version"], "pain_after": 9}
    )
    assert edit.status_code == 200
    assert stale.status_code == 409
    assert stale.json()["code"] == "stale_version"
    phone.sync()
    assert (
        phone.store["session_logs"][synced["id"]]["note"],
        phone.store["session_logs"][synced["id"]]["pain_after"],
    ) == (
        "Knæet drillede",
        2,
    )
    assert SessionLog.objects.count() == 5
