"""The staff pages' access log: each page that shows citizen data has written exactly one row for each
citizen it shows, as a read, in the staff member's role and for that role's purpose; a list writes one
row per citizen on the page and none for a citizen it does not show. The rows come from the access
functions that fetched the data (no view writes the log: tests/test_anatomy.py)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from backend.models import AccessLogEntry, StaffRole
from selvbetjening.models import TrainingAlert
from tests import factories as core
from tests.selvbetjening.factories import CitizenRequestFactory, EpisodeFactory
from tests.selvbetjening.training_factories import SessionLogFactory, make_plan
from tests.staffweb.helpers import episode, goal, plan_with_pain_alert, web_client

Purpose = AccessLogEntry.Purpose
READ = AccessLogEntry.Action.READ
# The care roles that see these pages, and the purpose each reads for.
ROLE_PURPOSE = {
    StaffRole.THERAPIST.value: Purpose.CARE,
    StaffRole.CARE_WORKER.value: Purpose.CARE,
    StaffRole.TEAM_LEAD.value: Purpose.FOLLOW_UP,
}


def _member(world, role):
    """A staff member of the world's team holding ``role`` (the world's therapist for a therapist)."""
    if role == StaffRole.THERAPIST:
        return world.staff_in_team
    member = core.StaffFactory(municipality=world.municipality)
    core.MembershipFactory(staff=member, team=world.team, role=role)
    return member


def _last_row_id():
    last = AccessLogEntry.objects.order_by("-pk").first()
    return last.pk if last else 0


def _rows_since(before):
    return list(AccessLogEntry.objects.filter(pk__gt=before).order_by("pk"))


def _named(citizen, given_name, family_name):
    """Names no factory makes, so that a name found on a page is this citizen's."""
    citizen.given_name, citizen.family_name = given_name, family_name
    citizen.save(update_fields=["given_name", "family_name"])
    return citizen


def _citizen_of_team(world, given_name, family_name):
    citizen = core.CitizenFactory(municipality=world.municipality)
    core.CareRelationFactory(citizen=citizen, team=world.team)
    return _named(citizen, given_name, family_name)


def _list_world(world):
    """Three citizens of the team and the other team's citizen, each with a name of their own."""
    _named(world.citizen, "Karen", "Vestergaard-Holm")
    _named(world.other_citizen, "Gudrun", "Mølgaard-Skov")
    return [
        world.citizen,
        _citizen_of_team(world, "Asta", "Lindqvist-Bro"),
        _citizen_of_team(world, "Bodil", "Ravnsholt"),
    ]


def _pain_alert(world, citizen, team):
    made = EpisodeFactory(citizen=citizen, team=team, created_by=world.staff_in_team.user)
    plan = make_plan(episode=made)
    log = SessionLogFactory(plan=plan, performed_at=timezone.now() - timedelta(hours=2), pain_before=5, pain_after=8)
    TrainingAlert.objects.create(
        citizen=citizen, episode=made, plan=plan, session_log=log, kind=TrainingAlert.Kind.PAIN_STOP, pain=8
    )


# --- One citizen shown -------------------------------------------------------------------------------

# Each page about one citizen: its address, and the resource its row names (type, the id of what is shown).
ONE_CITIZEN_PAGES = {
    "plan-dosage": (lambda w: f"/staff/planer/{w._plan.pk}/dosering/", lambda w: ("training_plan", w._plan.pk)),
    "plan-revise": (lambda w: f"/staff/planer/{w._plan.pk}/ny-version/", lambda w: ("training_plan", w._plan.pk)),
    "goal-rating": (lambda w: f"/staff/maal/{goal(w).pk}/vurdering/", lambda w: ("goal", goal(w).pk)),
    "episode-new": (lambda w: f"/staff/borgere/{w.citizen.pk}/nyt-forloeb/", lambda w: ("episode", w.citizen.pk)),
    "goal-new": (lambda w: f"/staff/forloeb/{episode(w).pk}/nyt-maal/", lambda w: ("episode", episode(w).pk)),
    "episode-contacts": (
        lambda w: f"/staff/forloeb/{episode(w).pk}/tovholder/",
        lambda w: ("episode", episode(w).pk),
    ),
    "episode-status": (lambda w: f"/staff/forloeb/{episode(w).pk}/status/", lambda w: ("episode", episode(w).pk)),
    "plan-new": (lambda w: f"/staff/forloeb/{episode(w).pk}/ny-plan/", lambda w: ("episode", episode(w).pk)),
    "request": (lambda w: f"/staff/henvendelser/{w._request.pk}/", lambda w: ("request", w._request.pk)),
}


def _one_citizen_world(world):
    _named(world.citizen, "Karen", "Vestergaard-Holm")
    world._plan = plan_with_pain_alert(world)
    world._request = CitizenRequestFactory(citizen=world.citizen, team=world.team, text="Mit knæ gør ondt")
    return world


def _assert_one_read(rows, world, member, role, resource):
    resource_type, resource_id = resource
    assert [
        (row.citizen_id, row.action, row.resource_type, row.resource_id, row.actor_id, row.actor_role, row.purpose)
        for row in rows
    ] == [(world.citizen.pk, READ, resource_type, str(resource_id), member.user.pk, role, ROLE_PURPOSE[role])]


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLE_PURPOSE)
@pytest.mark.parametrize("page", ONE_CITIZEN_PAGES)
def test_a_page_about_one_citizen_logs_one_read_in_the_role_and_its_purpose(world, page, role):
    _one_citizen_world(world)
    url, resource = ONE_CITIZEN_PAGES[page]
    member = _member(world, role)
    before = _last_row_id()
    response = web_client(member.user).get(url(world))
    assert response.status_code == 200
    assert world.citizen.full_name in response.content.decode()
    _assert_one_read(_rows_since(before), world, member, role, resource(world))


@pytest.mark.django_db
@pytest.mark.parametrize("page", ONE_CITIZEN_PAGES)
def test_staff_of_another_team_get_404_and_no_row(world, page):
    _one_citizen_world(world)
    url, _ = ONE_CITIZEN_PAGES[page]
    before = _last_row_id()
    response = web_client(world.staff_out_of_team.user).get(url(world))
    assert response.status_code == 404
    assert "Siden findes ikke" in response.content.decode()
    assert _rows_since(before) == []


# A form sent with nothing in it is refused and shown again: still one read row, and nothing written.
REFUSED = {
    "plan-dosage": ({}, 422),
    "plan-revise": ({"action": "save"}, 422),
    "goal-rating": ({}, 422),
    "episode-new": ({}, 422),
    "goal-new": ({}, 422),
    "episode-contacts": ({"action": "handover"}, 422),
    "episode-status": ({}, 422),
    "plan-new": ({"action": "save"}, 422),
    "request": ({"text": ""}, 422),
}


@pytest.mark.django_db
@pytest.mark.parametrize("page", REFUSED)
def test_a_refused_form_shown_again_logs_one_read(world, page):
    _one_citizen_world(world)
    url, resource = ONE_CITIZEN_PAGES[page]
    data, status = REFUSED[page]
    before = _last_row_id()
    response = web_client(world.staff_in_team.user).post(url(world), data)
    assert response.status_code == status
    assert world.citizen.full_name in response.content.decode()
    _assert_one_read(_rows_since(before), world, world.staff_in_team, StaffRole.THERAPIST.value, resource(world))


@pytest.mark.django_db
def test_the_plan_builders_library_alone_logs_no_row(world):
    _one_citizen_world(world)
    before = _last_row_id()
    response = web_client(world.staff_in_team.user).get(
        f"/staff/forloeb/{episode(world).pk}/ny-plan/", {"library-q": "knæ"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert world.citizen.full_name not in response.content.decode()
    assert _rows_since(before) == []


# --- Lists: one row per citizen on the page ---------------------------------------------------------


def _assert_one_read_per_citizen_shown(world, role, url, shown, resource_type):
    """The list at ``url`` as the team's ``role``: every citizen in ``shown`` on it with one read row each,
    the other team's citizen neither shown nor logged."""
    member = _member(world, role)
    before = _last_row_id()
    response = web_client(member.user).get(url)
    assert response.status_code == 200
    body = response.content.decode()
    assert all(citizen.full_name in body for citizen in shown) and world.other_citizen.full_name not in body
    rows = _rows_since(before)
    assert sorted(row.citizen_id for row in rows) == sorted(citizen.pk for citizen in shown)
    assert {(row.action, row.resource_type, row.actor_id, row.actor_role, row.purpose) for row in rows} == {
        (READ, resource_type, member.user.pk, role, ROLE_PURPOSE[role])
    }


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLE_PURPOSE)
def test_the_inbox_logs_one_read_per_citizen_on_it(world, role):
    shown = _list_world(world)
    for citizen in shown:
        CitizenRequestFactory(citizen=citizen, team=world.team, text="Hvornår kommer I?")
    CitizenRequestFactory(citizen=shown[1], team=world.team, text="Og en ting mere")  # two from one citizen
    CitizenRequestFactory(citizen=world.other_citizen, team=world.other_team, text="Ikke jeres")
    _assert_one_read_per_citizen_shown(world, role, "/staff/henvendelser/", shown, "request")


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLE_PURPOSE)
def test_the_work_list_logs_one_read_per_citizen_on_it(world, role):
    plan_with_pain_alert(world)  # and the episode's evaluation task: the same citizen twice on the page
    shown = _list_world(world)
    for citizen in shown[1:]:
        _pain_alert(world, citizen, world.team)
    _pain_alert(world, world.other_citizen, world.other_team)
    _assert_one_read_per_citizen_shown(world, role, "/staff/opgaver/", shown, "work_list")


@pytest.mark.django_db
def test_an_empty_inbox_and_work_list_log_nothing(world):
    client = web_client(world.staff_out_of_team.user)
    before = _last_row_id()
    assert client.get("/staff/henvendelser/").status_code == 200
    assert client.get("/staff/opgaver/").status_code == 200
    assert _rows_since(before) == []
