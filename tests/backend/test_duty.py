"""On duty: care staff go on and off duty for their teams; a duty ends at its time and with the membership."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from backend.models import Duty, Membership, StaffRole
from backend.selectors import care_alert_recipients, on_duty_user_ids
from backend.services.duty import DEFAULT_DUTY
from backend.timeutil import municipal_today
from tests import factories

pytestmark = pytest.mark.django_db

MINE = "/api/v1/me/duty"


def duty_url(team: Any) -> str:
    return f"{MINE}/{team.pk}"


def on_duty_url(team: Any) -> str:
    return f"/api/v1/teams/{team.pk}/on-duty"


def care_staff(world: Any, team: Any, role: str = StaffRole.CARE_WORKER) -> Any:
    member = factories.StaffFactory(municipality=world.municipality)
    factories.MembershipFactory(staff=member, team=team, role=role)
    return member


def end_all_duties() -> None:
    now = timezone.now()
    Duty.objects.update(started_at=now - timedelta(hours=2), until=now - timedelta(seconds=1))


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_going_on_duty_lasts_twelve_hours_by_default(world):
    client = world.client("staff_in_team")
    before = timezone.now()
    response = client.put(duty_url(world.team), {})
    assert response.status_code == 200
    body = response.json()
    assert (body["team_id"], body["team_name"]) == (str(world.team.pk), world.team.name)
    assert before + DEFAULT_DUTY <= parse(body["until"]) <= timezone.now() + DEFAULT_DUTY
    assert [item["team_id"] for item in client.get(MINE).json()["items"]] == [str(world.team.pk)]
    assert on_duty_user_ids([world.team.pk]) == {world.staff_in_team.user.pk}


def test_going_on_duty_until_a_given_time_and_again_moves_the_end_not_the_start(world):
    client = world.client("staff_in_team")
    until = (timezone.now() + timedelta(hours=3)).replace(microsecond=0)
    first = client.put(duty_url(world.team), {"until": until.isoformat()}).json()
    assert parse(first["until"]) == until
    later = until + timedelta(hours=2)
    second = client.put(duty_url(world.team), {"until": later.isoformat()}).json()
    assert (parse(second["until"]), second["started_at"]) == (later, first["started_at"])
    assert Duty.objects.count() == 1


@pytest.mark.parametrize(
    "until",
    [
        "2020-01-01T10:00:00+00:00",
        (datetime.now(UTC) + timedelta(hours=25)).isoformat(),
        "2030-01-01T10:00:00",
        "not a time",
        "9999-12-31T23:59:59+00:00",
    ],
)
def test_an_end_in_the_past_too_far_ahead_without_zone_or_malformed_is_refused(world, until):
    response = world.client("staff_in_team").put(duty_url(world.team), {"until": until})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "until"
    assert not Duty.objects.exists()


def test_unknown_fields_are_refused(world):
    assert world.client("staff_in_team").put(duty_url(world.team), {"hours": 3}).status_code == 422


def test_staff_cannot_go_on_duty_for_a_team_they_have_no_care_role_in(world):
    client = world.client("staff_out_of_team")
    assert client.put(duty_url(world.team), {}).status_code == 404
    assert client.delete(duty_url(world.team)).status_code == 404
    assert client.get(on_duty_url(world.team)).status_code == 404
    assert not Duty.objects.exists()


def test_an_analyst_in_the_team_is_refused(world):
    assert world.client("analyst").put(duty_url(world.team), {}).status_code == 403
    assert not Duty.objects.exists()


def test_going_off_duty(world):
    client = world.client("staff_in_team")
    client.put(duty_url(world.team), {})
    assert client.delete(duty_url(world.team)).status_code == 204
    assert client.get(MINE).json()["items"] == []
    assert on_duty_user_ids([world.team.pk]) == set()
    assert client.delete(duty_url(world.team)).status_code == 204


def test_a_duty_ends_by_itself_at_its_time(world):
    client = world.client("staff_in_team")
    client.put(duty_url(world.team), {})
    end_all_duties()
    assert client.get(MINE).json()["items"] == []
    assert world.client("staff_in_team").get(on_duty_url(world.team)).json()["items"] == []
    assert on_duty_user_ids([world.team.pk]) == set()
    # Going on duty again starts a new duty.
    renewed = client.put(duty_url(world.team), {}).json()
    assert parse(renewed["started_at"]) > timezone.now() - timedelta(minutes=1)


def test_a_duty_ends_with_the_membership(world):
    colleague = care_staff(world, world.team)
    Duty.objects.create(staff=colleague, team=world.team, until=timezone.now() + timedelta(hours=6))
    assert on_duty_user_ids([world.team.pk]) == {colleague.user.pk}
    Membership.objects.filter(staff=colleague).update(valid_to=municipal_today() - timedelta(days=1))
    assert on_duty_user_ids([world.team.pk]) == set()
    assert world.client("staff_in_team").get(on_duty_url(world.team)).json()["items"] == []


def test_a_care_role_elsewhere_does_not_keep_a_duty_in_this_team(world):
    colleague = care_staff(world, world.team)
    factories.MembershipFactory(staff=colleague, team=world.other_team, role=StaffRole.CARE_WORKER)
    Duty.objects.create(staff=colleague, team=world.team, until=timezone.now() + timedelta(hours=6))
    Membership.objects.filter(staff=colleague, team=world.team).update(valid_to=municipal_today() - timedelta(days=1))
    assert on_duty_user_ids([world.team.pk, world.other_team.pk]) == set()


def test_the_team_sees_who_is_on_duty_in_it(world):
    colleague = care_staff(world, world.team)
    elsewhere = care_staff(world, world.other_team)
    Duty.objects.create(staff=colleague, team=world.team, until=timezone.now() + timedelta(hours=6))
    Duty.objects.create(staff=elsewhere, team=world.other_team, until=timezone.now() + timedelta(hours=6))

    response = world.client("staff_in_team").get(on_duty_url(world.team))

    assert response.status_code == 200
    [item] = response.json()["items"]
    assert (item["staff_id"], item["user_id"], item["display_name"]) == (
        str(colleague.pk),
        str(colleague.user.pk),
        colleague.user.display_name,
    )


def test_the_on_duty_list_costs_the_same_for_more_staff(world, django_assert_num_queries):
    client = world.client("staff_in_team")
    Duty.objects.create(staff=care_staff(world, world.team), team=world.team, until=timezone.now() + timedelta(hours=1))
    with django_assert_num_queries(3) as captured:
        assert len(client.get(on_duty_url(world.team)).json()["items"]) == 1
    for _ in range(5):
        Duty.objects.create(
            staff=care_staff(world, world.team), team=world.team, until=timezone.now() + timedelta(hours=1)
        )
    with django_assert_num_queries(len(captured)):
        assert len(client.get(on_duty_url(world.team)).json()["items"]) == 6
    with django_assert_num_queries(len(captured)):
        client.get(MINE)


def test_alerts_go_to_whoever_is_on_duty_else_to_the_whole_care_team(world):
    colleague = care_staff(world, world.team, StaffRole.TEAM_LEAD)
    everyone = {world.staff_in_team.user.pk, colleague.user.pk}
    assert care_alert_recipients([world.team.pk]) == everyone, "nobody on duty: every care member, not the analyst"
    Duty.objects.create(staff=colleague, team=world.team, until=timezone.now() + timedelta(hours=1))
    assert care_alert_recipients([world.team.pk]) == {colleague.user.pk}
    named = {world.staff_out_of_team.user.pk}
    assert care_alert_recipients([world.team.pk], named=named) == named | {colleague.user.pk}
    end_all_duties()
    assert care_alert_recipients([world.team.pk], named=named) == named
    assert care_alert_recipients([world.team.pk]) == everyone


# --- The team directory -----------------------------------------------------------------------------


def test_the_team_directory_lists_its_care_staff_by_name_with_who_is_on_duty(world):
    colleague = care_staff(world, world.team)
    care_staff(world, world.other_team)  # another team's
    ended = care_staff(world, world.team)
    Membership.objects.filter(staff=ended).update(valid_to=municipal_today() - timedelta(days=1))
    client = world.client("staff_in_team")
    assert client.put(duty_url(world.team), {}).status_code == 200
    response = client.get(f"/api/v1/teams/{world.team.pk}/members")
    assert response.status_code == 200, response.content
    body = response.json()
    by_staff = {item["staff_id"]: item for item in body["items"]}
    # Care roles only: the analyst who is a member of the team is not in it, nor those whose membership ended.
    assert set(by_staff) == {str(world.staff_in_team.pk), str(colleague.pk)}
    assert by_staff[str(world.staff_in_team.pk)]["on_duty_until"] is not None
    assert by_staff[str(colleague.pk)]["on_duty_until"] is None
    assert by_staff[str(colleague.pk)]["role"] == "care_worker"
    names = [item["display_name"] for item in body["items"]]
    assert names == sorted(names)


def test_the_team_directory_costs_the_same_queries_for_one_or_nineteen_members(world):
    client = world.client("staff_in_team")
    url = f"/api/v1/teams/{world.team.pk}/members"
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for _ in range(18):
        care_staff(world, world.team)
    with CaptureQueriesContext(connection) as many:
        assert len(client.get(url).json()["items"]) == 19
    assert len(many) == len(few)
