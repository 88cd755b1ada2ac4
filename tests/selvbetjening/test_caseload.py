"""A team's training caseload: who is in it, the figures, the traffic light, sorting and paging."""

from datetime import date, datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backend.models import AccessLogEntry, StaffRole
from backend.timeutil import municipal_today
from selvbetjening.models import (
    CitizenRequest,
    Episode,
    EpisodeContact,
    QuestionnaireAssignment,
    TrainingAlert,
    TrainingPlan,
    TrainingSlot,
)
from tests import factories as core
from tests.selvbetjening import factories
from tests.selvbetjening.training_factories import SessionLogFactory, make_plan, slot_at
from tests.velfaerdsteknologi import factories as devices
from velfaerdsteknologi.models import Alert, AlertAudience, AlertStatus, TelemetryKind

DONE, MISSED = TrainingSlot.Status.DONE, TrainingSlot.Status.MISSED


def day(offset: int) -> date:
    return municipal_today() + timedelta(days=offset)


def at(offset: int, hour: int = 10) -> datetime:
    return datetime.combine(day(offset), time(hour, 0))


def caseload_url(team) -> str:
    return f"/api/v1/teams/{team.pk}/caseload"


def member(world, family_name: str, *, team=None, plan_status: str = TrainingPlan.Status.ACTIVE) -> TrainingPlan:
    """A citizen in the team's care with a plan in one of its running episodes."""
    team = team or world.team
    citizen = core.CitizenFactory(municipality=world.municipality, family_name=family_name, given_name="Test")
    core.CareRelationFactory(citizen=citizen, team=team)
    episode = factories.EpisodeFactory(citizen=citizen, team=team)
    return make_plan(episode=episode, status=plan_status)


def slots(plan: TrainingPlan, *, done: int, missed: int, pain: int | None = 2, first_offset: int = -1) -> None:
    """``done`` then ``missed`` slots on consecutive past days (most recent first), each done one logged."""
    offset = first_offset
    for _ in range(done):
        slot = slot_at(plan, at(offset), status=DONE)
        SessionLogFactory(plan=plan, slot=slot, performed_at=slot.scheduled_at, pain_before=pain, pain_after=pain)
        offset -= 1
    for _ in range(missed):
        slot_at(plan, at(offset), status=MISSED)
        offset -= 1


def session(plan: TrainingPlan, days_ago: float, *, pain: int | None) -> None:
    SessionLogFactory(
        plan=plan, performed_at=timezone.now() - timedelta(days=days_ago), pain_before=pain, pain_after=pain
    )


def pain_alert(plan: TrainingPlan, *, status: str = TrainingAlert.Status.OPEN) -> TrainingAlert:
    log = SessionLogFactory(plan=plan, performed_at=timezone.now() - timedelta(hours=2), pain_after=8)
    return TrainingAlert.objects.create(
        citizen=plan.citizen,
        episode=plan.episode,
        plan=plan,
        session_log=log,
        kind=TrainingAlert.Kind.PAIN_STOP,
        pain=8,
        status=status,
    )


def rows(world, **params) -> list[dict]:
    response = world.client("staff_in_team").get(caseload_url(world.team), params)
    assert response.status_code == 200, response.content
    return response.json()["items"]


def by_name(items: list[dict]) -> dict[str, dict]:
    return {item["name"].split(" ", 1)[1]: item for item in items}


# --- Who is in it -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_caseload_holds_citizens_with_an_active_plan_in_the_teams_episodes_under_its_care(world):
    member(world, "Aktiv")
    member(world, "Pause", plan_status=TrainingPlan.Status.PAUSED)
    member(world, "Andetteam", team=world.other_team)
    ended_care = member(world, "Slutcare")
    ended_care.citizen.care_relations.update(valid_to=day(-1))
    cancelled = member(world, "Annulleret")
    Episode.objects.filter(pk=cancelled.episode_id).update(status=Episode.Status.CANCELLED)
    two_plans = member(world, "Toplaner")
    make_plan(episode=two_plans.episode)

    assert sorted(by_name(rows(world))) == ["Aktiv", "Toplaner"]


# --- The figures --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_three_done_of_four_due_is_75_percent_and_yellow(world):
    slots(member(world, "Hansen"), done=3, missed=1)

    [row] = rows(world)

    assert (row["slots_due"], row["slots_filled"], row["adherence"]) == (4, 3, 0.75)
    assert row["status"] == "yellow"
    assert row["status_reasons"] == ["adherence_below_yellow"]


@pytest.mark.django_db
def test_adherence_counts_only_the_last_14_days_and_overdue_pending_slots_as_missed(world):
    plan = member(world, "Hansen")
    slots(plan, done=4, missed=0)
    slot_at(plan, at(-20), status=MISSED)
    slot_at(plan, at(-6, hour=7), status=TrainingSlot.Status.PENDING)
    slot_at(plan, at(2), status=TrainingSlot.Status.PENDING)
    slot_at(plan, at(-7, hour=7), status=TrainingSlot.Status.CANCELLED)

    [row] = rows(world)

    assert (row["slots_due"], row["slots_filled"], row["adherence"]) == (5, 4, 0.8)
    assert row["status"] == "green", "80 % is not below 80 %"


@pytest.mark.django_db
def test_ad_hoc_sessions_are_activity_but_fill_no_slot(world):
    plan = member(world, "Hansen")
    slots(plan, done=0, missed=2)
    session(plan, 1, pain=2)
    session(plan, 2, pain=2)

    [row] = rows(world)

    assert (row["slots_due"], row["slots_filled"], row["adherence"]) == (2, 0, 0.0)
    assert row["last_activity_at"] is not None
    assert row["status"] == "yellow", "0 % of only 2 due slots is not red"


@pytest.mark.django_db
def test_pain_rising_from_the_week_before_is_shown_with_its_values(world):
    plan = member(world, "Hansen")
    slots(plan, done=4, missed=0, pain=None)
    session(plan, 2, pain=6)
    session(plan, 3, pain=5)
    session(plan, 9, pain=3)
    session(plan, 10, pain=4)

    [row] = rows(world)

    assert row["pain_trend"] == "rising"
    assert (row["pain_mean_recent"], row["pain_mean_previous"]) == (5.5, 3.5)
    assert (row["status"], row["status_reasons"]) == ("yellow", ["pain_rising"])


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("recent", "previous", "trend"),
    [([3, 3], [4, 5], "falling"), ([4], [4, 3], "stable"), ([4], [], "unknown"), ([], [4], "unknown")],
)
def test_pain_trend(world, recent, previous, trend):
    plan = member(world, "Hansen")
    for pain in recent:
        session(plan, 1, pain=pain)
    for pain in previous:
        session(plan, 8, pain=pain)

    assert rows(world)[0]["pain_trend"] == trend


@pytest.mark.django_db
def test_open_alerts_count_unresolved_ones(world):
    plan = member(world, "Hansen")
    pain_alert(plan)
    pain_alert(plan, status=TrainingAlert.Status.ACKNOWLEDGED)
    pain_alert(plan, status=TrainingAlert.Status.RESOLVED)

    assert rows(world)[0]["open_alerts"] == 2


# --- The traffic light --------------------------------------------------------------------------


@pytest.mark.django_db
def test_traffic_light_cases(world):
    slots(member(world, "Groen"), done=4, missed=0)
    alert_but_perfect = member(world, "Smerte")
    slots(alert_but_perfect, done=4, missed=0)
    pain_alert(alert_but_perfect)
    acknowledged = member(world, "Set")
    slots(acknowledged, done=4, missed=0)
    pain_alert(acknowledged, status=TrainingAlert.Status.ACKNOWLEDGED)
    resolved = member(world, "Loest")
    slots(resolved, done=4, missed=0)
    pain_alert(resolved, status=TrainingAlert.Status.RESOLVED)
    slots(member(world, "Lav"), done=1, missed=3)
    slots(member(world, "Toaf"), done=0, missed=2)
    member(world, "Ny")
    idle = member(world, "Stille")
    slots(idle, done=3, missed=0, first_offset=-8)

    light = {name: (row["status"], row["status_reasons"]) for name, row in by_name(rows(world)).items()}

    assert light == {
        "Groen": ("green", []),
        "Smerte": ("red", ["pain_alert"]),
        "Set": ("red", ["pain_alert"]),
        "Loest": ("green", []),
        "Lav": ("red", ["adherence_below_red"]),
        "Toaf": ("yellow", ["adherence_below_yellow", "no_recent_activity"]),
        "Ny": ("yellow", ["no_recent_activity"]),
        "Stille": ("yellow", ["no_recent_activity"]),
    }


# --- Questionnaires, requests and episodes ending -----------------------------------------------


def active(world, family_name: str) -> TrainingPlan:
    """A member who trained every day of the last four, so only the signals under test colour the light."""
    plan = member(world, family_name)
    slots(plan, done=4, missed=0)
    return plan


@pytest.mark.django_db
def test_a_questionnaire_pending_after_its_due_day_is_overdue_and_yellow(world):
    overdue = active(world, "Forsinket")
    factories.QuestionnaireAssignmentFactory(citizen=overdue.citizen, episode=overdue.episode, due_on=day(-1))
    due_today = active(world, "Idag")
    factories.QuestionnaireAssignmentFactory(citizen=due_today.citizen, episode=due_today.episode, due_on=day(0))
    answered = active(world, "Besvaret")
    factories.QuestionnaireAssignmentFactory(
        citizen=answered.citizen,
        episode=answered.episode,
        due_on=day(-3),
        status=QuestionnaireAssignment.Status.ANSWERED,
    )
    other_team = active(world, "Andetforloeb")
    other_episode = factories.EpisodeFactory(citizen=other_team.citizen, team=world.other_team)
    factories.QuestionnaireAssignmentFactory(citizen=other_team.citizen, episode=other_episode, due_on=day(-3))
    no_episode = active(world, "Udenforloeb")
    factories.QuestionnaireAssignmentFactory(citizen=no_episode.citizen, due_on=day(-2))
    factories.QuestionnaireAssignmentFactory(citizen=no_episode.citizen, due_on=day(-5))

    found = {
        name: (row["status"], row["status_reasons"], row["questionnaires_overdue"])
        for name, row in by_name(rows(world)).items()
    }

    assert found == {
        "Forsinket": ("yellow", ["questionnaire_overdue"], 1),
        "Idag": ("green", [], 0),
        "Besvaret": ("green", [], 0),
        "Andetforloeb": ("green", [], 0),
        "Udenforloeb": ("yellow", ["questionnaire_overdue"], 2),
    }


@pytest.mark.django_db
def test_a_request_to_the_team_unanswered_past_its_deadline_is_red(world):
    def request(plan, *, hours: int, status=CitizenRequest.Status.OPEN, team=None):
        factories.CitizenRequestFactory(
            citizen=plan.citizen,
            team=team or world.team,
            status=status,
            respond_by=timezone.now() + timedelta(hours=hours),
        )

    request(active(world, "Aaben"), hours=-1)
    request(active(world, "Igang"), hours=-30, status=CitizenRequest.Status.IN_PROGRESS)
    request(active(world, "Besvaret"), hours=-30, status=CitizenRequest.Status.ANSWERED)
    request(active(world, "Lukket"), hours=-30, status=CitizenRequest.Status.CLOSED)
    request(active(world, "Itide"), hours=5)
    request(active(world, "Andetteam"), hours=-30, team=world.other_team)

    found = {
        name: (row["status"], row["status_reasons"], row["requests_overdue"])
        for name, row in by_name(rows(world)).items()
    }

    assert found == {
        "Aaben": ("red", ["request_overdue"], 1),
        "Igang": ("red", ["request_overdue"], 1),
        "Besvaret": ("green", [], 0),
        "Lukket": ("green", [], 0),
        "Itide": ("green", [], 0),
        "Andetteam": ("green", [], 0),
    }


@pytest.mark.django_db
def test_a_running_episode_planned_to_end_within_7_days_is_ending_soon_and_yellow(world):
    def ends(plan, offset: int) -> None:
        Episode.objects.filter(pk=plan.episode_id).update(start_date=day(-30), planned_end_date=day(offset))

    ends(active(world, "Idag"), 0)
    ends(active(world, "Syv"), 7)
    ends(active(world, "Otte"), 8)
    ends(active(world, "Overskredet"), -1)
    ends_in_other_team = active(world, "Andetteam")
    factories.EpisodeFactory(
        citizen=ends_in_other_team.citizen, team=world.other_team, start_date=day(-30), planned_end_date=day(3)
    )
    second_episode = active(world, "Andetforloeb")
    factories.EpisodeFactory(
        citizen=second_episode.citizen, team=world.team, start_date=day(-30), planned_end_date=day(3)
    )
    finished = active(world, "Afsluttet")
    factories.EpisodeFactory(
        citizen=finished.citizen,
        team=world.team,
        start_date=day(-30),
        planned_end_date=day(3),
        status=Episode.Status.CANCELLED,
    )

    found = {
        name: (row["status"], row["status_reasons"], row["episode_ends_on"])
        for name, row in by_name(rows(world)).items()
    }

    assert found == {
        "Idag": ("yellow", ["episode_ending_soon"], day(0).isoformat()),
        "Syv": ("yellow", ["episode_ending_soon"], day(7).isoformat()),
        "Otte": ("green", [], None),
        "Overskredet": ("green", [], None),
        "Andetteam": ("green", [], None),
        "Andetforloeb": ("yellow", ["episode_ending_soon"], day(3).isoformat()),
        "Afsluttet": ("green", [], None),
    }


@pytest.mark.django_db
def test_reasons_add_up_in_the_order_the_rules_read(world):
    plan = member(world, "Mange")
    slots(plan, done=1, missed=3)
    factories.QuestionnaireAssignmentFactory(citizen=plan.citizen, episode=plan.episode, due_on=day(-1))
    factories.CitizenRequestFactory(
        citizen=plan.citizen, team=world.team, respond_by=timezone.now() - timedelta(hours=1)
    )
    Episode.objects.filter(pk=plan.episode_id).update(planned_end_date=day(2))

    [row] = rows(world)

    assert row["status"] == "red"
    assert row["status_reasons"] == [
        "request_overdue",
        "adherence_below_red",
        "questionnaire_overdue",
        "episode_ending_soon",
    ]


def device_alert(plan, kind: str, *, status: str = AlertStatus.OPEN, returned: bool = False, names_citizen=True):
    """An alert of ``kind`` on a device placed with the plan's citizen (a device alert names no citizen)."""
    assignment = devices.AssignmentFactory(
        citizen=plan.citizen, returned_at=timezone.now() - timedelta(days=1) if returned else None
    )
    return devices.AlertFactory(
        device=assignment.device,
        kind=kind,
        status=status,
        citizen=plan.citizen if names_citizen else None,
        audience=AlertAudience.CARE if names_citizen else AlertAudience.IT,
    )


@pytest.mark.django_db
def test_unresolved_alerts_on_the_citizens_devices_are_reasons(world):
    device_alert(active(world, "Fald"), TelemetryKind.FALL)
    device_alert(active(world, "Stum"), TelemetryKind.HEARTBEAT, names_citizen=False)
    device_alert(active(world, "Batteri"), TelemetryKind.BATTERY, names_citizen=False, status=AlertStatus.ACKNOWLEDGED)
    device_alert(active(world, "Loest"), TelemetryKind.FALL, status=AlertStatus.RESOLVED)
    device_alert(active(world, "Returneret"), TelemetryKind.BATTERY, names_citizen=False, returned=True)
    # A fall alert stays with the citizen who had the device when it was raised, not the one who has it now.
    handed_on = devices.AssignmentFactory(citizen=active(world, "Nabo").citizen)
    devices.AlertFactory(device=handed_on.device, kind=TelemetryKind.FALL, citizen=core.CitizenFactory())

    found = {name: (row["status"], row["status_reasons"]) for name, row in by_name(rows(world)).items()}

    assert found == {
        "Fald": ("red", ["device_fall"]),
        "Stum": ("yellow", ["device_offline"]),
        "Batteri": ("yellow", ["device_battery_low"]),
        "Loest": ("green", []),
        "Returneret": ("green", []),
        "Nabo": ("green", []),
    }


@pytest.mark.django_db
def test_without_the_device_register_installed_the_caseload_leaves_device_alerts_out(world, monkeypatch):
    from selvbetjening.selectors import caseload

    device_alert(active(world, "Fald"), TelemetryKind.FALL)
    monkeypatch.setattr(caseload.apps, "is_installed", lambda label: label != "velfaerdsteknologi")

    [row] = rows(world)

    assert (row["status"], row["status_reasons"]) == ("green", [])


def test_the_device_alert_values_the_statement_compares_are_the_device_registers():
    from selvbetjening.selectors.caseload import DEVICE_ALERT_VALUES

    kinds = {value for value, _ in Alert._meta.get_field("kind").choices}
    statuses = {value for value, _ in Alert._meta.get_field("status").choices}
    assert {DEVICE_ALERT_VALUES[key] for key in ("device_fall", "device_heartbeat", "device_battery")} <= kinds
    assert {DEVICE_ALERT_VALUES[key] for key in ("device_alert_open", "device_alert_acknowledged")} <= statuses


# --- Filters ------------------------------------------------------------------------------------


def contact(plan: TrainingPlan, staff, *, ended: bool = False) -> None:
    factories.EpisodeContactFactory(
        episode=plan.episode, staff=staff, ended_at=timezone.now() - timedelta(days=1) if ended else None
    )


@pytest.mark.django_db
def test_the_contact_person_filter_keeps_the_citizens_whose_running_episode_they_hold(world):
    mine = member(world, "Min")
    contact(mine, world.staff_in_team)
    colleague = core.StaffFactory(municipality=world.municipality)
    contact(member(world, "Kollegas"), colleague)
    handed_over = member(world, "Overdraget")
    contact(handed_over, world.staff_in_team, ended=True)
    contact(handed_over, colleague)
    stand_in = member(world, "Stedfortraeder")
    factories.EpisodeContactFactory(
        episode=stand_in.episode, staff=world.staff_in_team, role=EpisodeContact.Role.STAND_IN
    )
    ended_episode = member(world, "Afsluttet")
    contact(ended_episode, world.staff_in_team)
    Episode.objects.filter(pk=ended_episode.episode_id).update(status=Episode.Status.CANCELLED)
    member(world, "Ingen")

    assert sorted(by_name(rows(world, contact_person=world.staff_in_team.pk))) == ["Min"]
    assert sorted(by_name(rows(world, contact_person=colleague.pk))) == ["Kollegas", "Overdraget"]
    assert len(rows(world)) == 5


@pytest.mark.django_db
def test_the_reason_filter_keeps_the_citizens_with_that_reason(world):
    late = active(world, "Forsinket")
    factories.QuestionnaireAssignmentFactory(citizen=late.citizen, episode=late.episode, due_on=day(-1))
    slots(member(world, "Lav"), done=1, missed=3)
    active(world, "Groen")

    assert sorted(by_name(rows(world, reason="questionnaire_overdue"))) == ["Forsinket"]
    assert sorted(by_name(rows(world, reason="adherence_below_red"))) == ["Lav"]
    assert rows(world, reason="request_overdue") == []


@pytest.mark.django_db
def test_a_cursor_pages_the_filtered_caseload_it_came_from_only(world):
    for name in ("Aagaard", "Bech", "Carlsen"):
        late = active(world, name)
        factories.QuestionnaireAssignmentFactory(citizen=late.citizen, episode=late.episode, due_on=day(-1))
    active(world, "Dahl")
    client = world.client("staff_in_team")
    filtered = {"sort": "name", "reason": "questionnaire_overdue"}
    first = client.get(caseload_url(world.team), filtered | {"limit": 2}).json()

    second = client.get(caseload_url(world.team), filtered | {"limit": 2, "cursor": first["next_cursor"]}).json()
    unfiltered = client.get(caseload_url(world.team), {"sort": "name", "cursor": first["next_cursor"]})

    assert [item["name"] for item in first["items"] + second["items"]] == [
        "Test Aagaard",
        "Test Bech",
        "Test Carlsen",
    ]
    assert second["next_cursor"] is None
    assert (unfiltered.status_code, unfiltered.json()["errors"][0]["field"]) == (422, "cursor")


@pytest.mark.django_db
@pytest.mark.parametrize(("field", "value"), [("reason", "drop_table"), ("contact_person", "nobody")])
def test_an_unknown_filter_value_is_422_naming_the_field(world, field, value):
    response = world.client("staff_in_team").get(caseload_url(world.team), {field: value})

    assert response.status_code == 422
    assert field in response.content.decode()


# --- Sorting and paging -------------------------------------------------------------------------


@pytest.fixture
def three_lights(world):
    slots(member(world, "Aagaard"), done=4, missed=0)
    slots(member(world, "Bech"), done=1, missed=3, first_offset=-2)
    slots(member(world, "Carlsen"), done=3, missed=1, first_offset=-9)
    member(world, "Dahl")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("status", ["Bech", "Carlsen", "Dahl", "Aagaard"]),
        ("-status", ["Aagaard", "Carlsen", "Dahl", "Bech"]),
        ("adherence", ["Bech", "Carlsen", "Aagaard", "Dahl"]),
        ("-adherence", ["Aagaard", "Carlsen", "Bech", "Dahl"]),
        ("last_activity", ["Dahl", "Carlsen", "Bech", "Aagaard"]),
        ("-last_activity", ["Aagaard", "Bech", "Carlsen", "Dahl"]),
        ("name", ["Aagaard", "Bech", "Carlsen", "Dahl"]),
        ("-name", ["Dahl", "Carlsen", "Bech", "Aagaard"]),
    ],
)
def test_sort_orders(world, three_lights, sort, expected):
    names = [item["name"].split(" ", 1)[1] for item in rows(world, sort=sort)]

    assert names == expected


@pytest.mark.django_db
def test_status_is_the_default_order_red_first(world, three_lights):
    assert [item["status"] for item in rows(world)] == ["red", "yellow", "yellow", "green"]


@pytest.mark.django_db
def test_pages_follow_the_cursor_without_gaps_or_repeats(world, three_lights):
    client = world.client("staff_in_team")
    seen, cursor = [], None
    for _ in range(3):
        params = {"sort": "name", "limit": 3} | ({"cursor": cursor} if cursor else {})
        body = client.get(caseload_url(world.team), params).json()
        seen += [item["name"].split(" ", 1)[1] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break

    assert seen == ["Aagaard", "Bech", "Carlsen", "Dahl"]
    other_sort = client.get(caseload_url(world.team), {"sort": "status", "limit": 3}).json()["next_cursor"]
    mixed = client.get(caseload_url(world.team), {"sort": "name", "cursor": other_sort})
    assert (mixed.status_code, mixed.json()["errors"][0]["field"]) == (422, "cursor")


@pytest.mark.django_db
def test_an_unknown_sort_is_422_naming_the_field(world):
    response = world.client("staff_in_team").get(caseload_url(world.team), {"sort": "cpr"})

    assert (response.status_code, response.json()["errors"][0]["field"]) == (422, "sort")


@pytest.mark.django_db
def test_a_page_is_at_most_100_whatever_is_asked(world):
    for index in range(102):
        member(world, f"Borger{index:03d}")

    response = world.client("staff_in_team").get(caseload_url(world.team), {"limit": 1000, "sort": "name"})

    assert len(response.json()["items"]) == 100
    assert response.json()["next_cursor"] is not None


# --- Who may see it -----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "status"),
    [("staff_out_of_team", 404), ("it", 403), ("analyst", 403), ("citizen", 403), ("relative_with_consent", 403)],
)
def test_only_staff_with_a_care_role_in_the_team_see_its_caseload(world, role, status):
    slots(member(world, "Hansen"), done=1, missed=1)
    logged = AccessLogEntry.objects.count()

    response = world.client(role).get(caseload_url(world.team))

    assert response.status_code == status
    assert "Hansen" not in response.content.decode()
    assert AccessLogEntry.objects.count() == logged


@pytest.mark.django_db
def test_a_membership_that_ended_no_longer_shows_the_caseload(world):
    member(world, "Hansen")
    world.staff_in_team.memberships.update(valid_to=day(-1))
    core.MembershipFactory(staff=world.staff_in_team, team=world.other_team, role=StaffRole.THERAPIST)

    assert world.client("staff_in_team").get(caseload_url(world.team)).status_code == 404


@pytest.mark.django_db
def test_the_read_is_logged_for_the_citizens_on_the_page_only(world):
    plans = [member(world, name) for name in ("Aagaard", "Bech", "Carlsen")]

    world.client("staff_in_team").get(caseload_url(world.team), {"sort": "name", "limit": 2})

    logged = set(AccessLogEntry.objects.filter(resource_type="training_caseload").values_list("citizen_id", flat=True))
    assert logged == {plans[0].citizen_id, plans[1].citizen_id}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("sort", "filters"),
    [
        ("status", {}),
        ("-adherence", {}),
        ("last_activity", {}),
        ("name", {}),
        ("status", {"reason": "request_overdue"}),
        ("status", {"contact_person": "staff_in_team"}),
    ],
)
def test_the_caseload_costs_the_same_queries_for_3_and_30_citizens(world, sort, filters):
    if "contact_person" in filters:
        filters = {"contact_person": world.staff_in_team.pk}

    def grow(first: int, count: int) -> None:
        for index in range(first, first + count):
            plan = member(world, f"Borger{index:03d}")
            slots(plan, done=index % 4, missed=index % 3)
            session(plan, 9, pain=index % 7)
            if index % 5 == 0:
                pain_alert(plan)
            if index % 4 == 0:
                factories.QuestionnaireAssignmentFactory(citizen=plan.citizen, episode=plan.episode, due_on=day(-2))
                factories.CitizenRequestFactory(
                    citizen=plan.citizen, team=world.team, respond_by=timezone.now() - timedelta(hours=3)
                )
                factories.EpisodeContactFactory(episode=plan.episode, staff=world.staff_in_team)
            if index % 3 == 0:
                Episode.objects.filter(pk=plan.episode_id).update(planned_end_date=day(5))
                device_alert(plan, TelemetryKind.FALL)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = world.client("staff_in_team").get(
                caseload_url(world.team), {"sort": sort, "limit": 100} | filters
            )
        assert response.status_code == 200
        assert response.json()["items"]
        return len(captured)

    grow(0, 3)
    small = queries()
    grow(3, 27)
    assert queries() == small
