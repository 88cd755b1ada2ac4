"""Missed training: a run of missed slots raises one training alert for the contact person.

The rule runs where slots become missed (``slots_mark_missed``, the ``training_slots`` job): three slots
in a row (``MISSED_TRAINING_ALERT_AFTER``) raise an alert of kind ``missed_training``, once per run; a
session logged starts a new run.
"""

from datetime import datetime, time, timedelta

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from backend.timeutil import municipal_today
from notifications.models import Notification, StreamEvent
from selvbetjening.models import EpisodeContact, TrainingAlert, TrainingSlot
from selvbetjening.selectors.caseload import team_caseload
from selvbetjening.services.slots import slots_mark_missed
from tests.selvbetjening.training_factories import SessionLogFactory, make_plan, slot_at
from tests.staffweb.helpers import web_client

Slot = TrainingSlot.Status
MISSED = TrainingAlert.Kind.MISSED_TRAINING

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan(episode):
    return make_plan(episode=episode, recurrence_rule="FREQ=DAILY", start_time=time(8))


def days_ago(plan, days: int, status: str = Slot.PENDING) -> TrainingSlot:
    return slot_at(plan, datetime.combine(municipal_today() - timedelta(days=days), time(8)), status=status)


def sweep(capture) -> int:
    with capture(execute=True):
        return slots_mark_missed(now=timezone.now())


def missed_alerts():
    return TrainingAlert.objects.filter(kind=MISSED)


def test_three_missed_in_a_row_alert_the_contact_person_and_the_team_once(
    world, plan, django_capture_on_commit_callbacks
):
    days_ago(plan, 6, Slot.DONE)
    run = [days_ago(plan, days) for days in (5, 4)]
    assert sweep(django_capture_on_commit_callbacks) == 2
    assert not missed_alerts().exists()

    run.append(days_ago(plan, 3))
    assert sweep(django_capture_on_commit_callbacks) == 1

    alert = missed_alerts().get()
    contact = EpisodeContact.objects.get(episode=plan.episode, role=EpisodeContact.Role.CONTACT_PERSON).staff
    assert (alert.citizen_id, alert.plan_id, alert.contact_person) == (plan.citizen_id, plan.pk, contact)
    assert (alert.first_missed_slot_id, alert.missed_slots, alert.session_log, alert.pain) == (run[0].pk, 3, None, None)
    assert alert.status == TrainingAlert.Status.OPEN
    [notification] = Notification.objects.filter(kind="training_alert.raised")
    assert notification.recipient_id == contact.user_id
    assert notification.refs["alert_id"] == str(alert.pk)
    assert StreamEvent.objects.filter(team_id=world.team.pk, type="training_alert.raised").count() == 1

    # The run grows: still the one alert, and nobody is told again.
    days_ago(plan, 2)
    days_ago(plan, 1)
    assert sweep(django_capture_on_commit_callbacks) == 2
    assert missed_alerts().count() == 1
    assert Notification.objects.filter(kind="training_alert.raised").count() == 1


def test_a_logged_session_starts_a_new_run(plan, django_capture_on_commit_callbacks):
    for days in (9, 8, 7):
        days_ago(plan, days)
    assert sweep(django_capture_on_commit_callbacks) == 3
    first = missed_alerts().get()

    SessionLogFactory(plan=plan, performed_at=timezone.now() - timedelta(days=6, hours=1))  # ad hoc
    second_run = [days_ago(plan, days) for days in (5, 4)]
    sweep(django_capture_on_commit_callbacks)
    assert list(missed_alerts()) == [first], "two misses after a session are no run yet"

    second_run.append(days_ago(plan, 3))
    sweep(django_capture_on_commit_callbacks)
    assert missed_alerts().count() == 2
    newest = missed_alerts().exclude(pk=first.pk).get()
    assert (newest.first_missed_slot_id, newest.missed_slots) == (second_run[0].pk, 3)
    assert Notification.objects.filter(kind="training_alert.raised").count() == 2


def test_a_slot_done_ends_a_run_and_cancelled_slots_neither_count_nor_end_one(plan, django_capture_on_commit_callbacks):
    days_ago(plan, 7)
    days_ago(plan, 6, Slot.DONE)
    days_ago(plan, 5)
    days_ago(plan, 4, Slot.CANCELLED)
    days_ago(plan, 3)
    sweep(django_capture_on_commit_callbacks)
    assert not missed_alerts().exists()

    days_ago(plan, 2)
    sweep(django_capture_on_commit_callbacks)
    assert missed_alerts().get().missed_slots == 3


def test_several_misses_marked_at_once_still_raise_one_alert_with_the_whole_run(
    plan, django_capture_on_commit_callbacks
):
    """The job was down for a week: the slots of the week become missed in one sweep."""
    run = [days_ago(plan, days) for days in range(7, 0, -1)]
    assert sweep(django_capture_on_commit_callbacks) == 7
    alert = missed_alerts().get()
    assert (alert.first_missed_slot_id, alert.missed_slots) == (run[0].pk, 7)


@override_settings(MISSED_TRAINING_ALERT_AFTER=5)
def test_the_run_length_is_a_setting(plan, django_capture_on_commit_callbacks):
    for days in (6, 5, 4, 3):
        days_ago(plan, days)
    sweep(django_capture_on_commit_callbacks)
    assert not missed_alerts().exists()
    days_ago(plan, 2)
    sweep(django_capture_on_commit_callbacks)
    assert missed_alerts().get().missed_slots == 5


@override_settings(MISSED_TRAINING_ALERT_AFTER=0)
def test_zero_turns_the_rule_off(plan, django_capture_on_commit_callbacks):
    for days in range(6, 0, -1):
        days_ago(plan, days)
    assert sweep(django_capture_on_commit_callbacks) == 6
    assert not missed_alerts().exists()


def test_a_paused_plan_raises_nothing(plan, django_capture_on_commit_callbacks):
    for days in (5, 4, 3):
        days_ago(plan, days)
    plan.status = plan.Status.PAUSED
    plan.save(update_fields=["status"])
    sweep(django_capture_on_commit_callbacks)
    assert not missed_alerts().exists()


def test_the_periodic_job_raises_it_once_however_often_it_runs(plan, django_capture_on_commit_callbacks):
    for days in (5, 4, 3):
        days_ago(plan, days)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("training_slots", stdout=open("/dev/null", "w"))  # noqa: SIM115
        call_command("training_slots", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert missed_alerts().count() == 1
    assert Notification.objects.filter(kind="training_alert.raised").count() == 1


def test_staff_see_it_in_the_alerts_list_the_caseload_and_the_work_list(
    world, plan, django_capture_on_commit_callbacks
):
    for days in (5, 4, 3):
        days_ago(plan, days)
    sweep(django_capture_on_commit_callbacks)
    alert = missed_alerts().get()

    response = world.client("staff_in_team").get("/api/v1/staff/training-alerts")
    [item] = response.json()["items"]
    assert (item["id"], item["kind"], item["missed_slots"]) == (str(alert.pk), "missed_training", 3)
    assert (item["session_log_id"], item["performed_at"], item["pain"]) == (None, None, None)
    assert item["kind_name"] == "Træning ikke gennemført flere gange i træk"

    [row] = team_caseload(world.team).rows
    assert row.light == "red"
    assert "missed_training_alert" in row.reasons
    [only] = team_caseload(world.team, reason="missed_training_alert").rows
    assert only.citizen == world.citizen
    api = world.client("staff_in_team").get(f"/api/v1/teams/{world.team.pk}/caseload?reason=missed_training_alert")
    assert api.status_code == 200
    assert api.json()["items"][0]["status_reasons"][:1] == ["missed_training_alert"]

    page = web_client(world.staff_in_team.user).get("/staff/opgaver/").content.decode()
    assert "3 træninger i træk ikke gennemført" in page
    triage = web_client(world.staff_in_team.user).get("/staff/").content.decode()
    assert "Træning ikke gennemført flere gange i træk" in triage

    resolved = world.client("staff_in_team").post(
        f"/api/v1/staff/training-alerts/{alert.pk}/resolve", {"note": "Ringet op"}, content_type="application/json"
    )
    assert resolved.status_code == 200
    assert "missed_training_alert" not in team_caseload(world.team).rows[0].reasons
