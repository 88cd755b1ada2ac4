"""The staff pages with the test client: what each role gets, the access log, forms and their errors."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backend.models import AccessLogEntry, StaffRole
from selvbetjening.models import CitizenRequest, RequestMessage, TrainingPlanVersion
from tests import factories as core
from tests.selvbetjening.factories import CitizenRequestFactory, EpisodeFactory
from tests.selvbetjening.training_factories import SessionLogFactory, make_plan
from tests.staffweb.helpers import access_rows, plan_with_pain_alert, web_client

PERSON_ROLES = {
    "citizen": "citizen",
    "staff_in_team": "staff_in_team",
    "staff_out_of_team": "staff_out_of_team",
    "it": "it_staff",
    "analyst": "analyst",
}


def _user(world, role):
    person = getattr(world, PERSON_ROLES[role])
    return person.user


def _request(world):
    return CitizenRequestFactory(citizen=world.citizen, team=world.team, text="Min knæ gør ondt efter øvelserne")


# --- The role × page matrix ---------------------------------------------------------------------

# Each page and the status each role gets; "anonymous" is sent to the login. A citizen logging in with
# a citizen session has no staff login at all, so the staff pages send them to the login too.
PAGES = {
    "triage": (
        "/staff/",
        lambda w: {},
        {"staff_in_team": 200, "staff_out_of_team": 200, "it": 404, "analyst": 404},
    ),
    "citizen": (
        "/staff/borgere/{citizen_id}/",
        lambda w: {"citizen_id": w.citizen.pk},
        {"staff_in_team": 200, "staff_out_of_team": 404, "it": 404, "analyst": 404},
    ),
    "plan-dosage": (
        "/staff/planer/{plan_id}/dosering/",
        lambda w: {"plan_id": w._plan.pk},
        {"staff_in_team": 200, "staff_out_of_team": 404, "it": 404, "analyst": 404},
    ),
    "inbox": (
        "/staff/henvendelser/",
        lambda w: {},
        {"staff_in_team": 200, "staff_out_of_team": 200, "it": 404, "analyst": 404},
    ),
    "request": (
        "/staff/henvendelser/{request_id}/",
        lambda w: {"request_id": w._request.pk},
        {"staff_in_team": 200, "staff_out_of_team": 404, "it": 404, "analyst": 404},
    ),
    "team": ("/staff/team/", lambda w: {}, {"staff_in_team": 404, "staff_out_of_team": 404, "it": 404, "analyst": 404}),
}


def test_every_staff_page_has_a_matrix_row():
    from staffweb.urls import urlpatterns

    pages = {pattern.name for pattern in urlpatterns if hasattr(pattern, "name")}  # IT: test_it_pages.py
    actions = {"login", "logout", "logout-everywhere", "request-close", "request-photo"}
    assert pages - actions == set(PAGES)


@pytest.mark.django_db
@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("role", ["anonymous", *PERSON_ROLES])
def test_page_by_role(world, page, role):
    world._plan = plan_with_pain_alert(world)
    world._request = _request(world)
    path, params, expected = PAGES[page]
    url = path.format(**params(world))
    if role == "anonymous":
        client, status = Client(), 302
    elif role == "citizen":
        client, status = web_client(_user(world, role), audience="citizen"), 302
    else:
        client, status = web_client(_user(world, role)), expected[role]
    before = AccessLogEntry.objects.count()
    response = client.get(url)
    assert response.status_code == status
    body = response.content.decode()
    if status != 200:
        assert world.citizen.full_name not in body
        assert AccessLogEntry.objects.count() == before
    if status == 404:
        assert "Siden findes ikke" in body


@pytest.mark.django_db
def test_team_leader_sees_the_team_and_who_is_on_duty(world):
    lead = core.StaffFactory(municipality=world.municipality)
    core.MembershipFactory(staff=lead, team=world.team, role=StaffRole.TEAM_LEAD)
    response = web_client(lead.user).get("/staff/team/")
    body = response.content.decode()
    assert response.status_code == 200
    assert world.staff_in_team.user.display_name in body and "Terapeut" in body
    assert 'href="/staff/team/"' in body  # the navigation shows the team page to a team leader only
    assert 'href="/staff/team/"' not in web_client(world.staff_in_team.user).get("/staff/").content.decode()


# --- Mit team -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_triage_shows_the_pain_alert_in_words_and_logs_each_citizen_once(world):
    plan_with_pain_alert(world)
    response = web_client(world.staff_in_team.user).get("/staff/")
    body = response.content.decode()
    assert "Kræver handling" in body and "Smertealarm" in body and world.citizen.full_name in body
    rows = access_rows(world.citizen)
    assert [(row.resource_type, row.actor_role, row.purpose) for row in rows] == [
        ("training_caseload", "therapist", "care")
    ]


@pytest.mark.django_db
def test_triage_htmx_request_gets_only_the_list(world):
    plan_with_pain_alert(world)
    response = web_client(world.staff_in_team.user).get("/staff/", headers={"HX-Request": "true"})
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="caseload"') and "<html" not in body


@pytest.mark.django_db
def test_triage_bad_cursor_says_so_in_danish_and_shows_no_one(world):
    plan_with_pain_alert(world)
    response = web_client(world.staff_in_team.user).get("/staff/", {"cursor": "not-a-cursor"})
    assert response.status_code == 200
    assert "Værdien kan ikke bruges" in response.content.decode()
    assert access_rows(world.citizen) == []


def _citizens_in_training(world, count):
    for _ in range(count):
        citizen = core.CitizenFactory(municipality=world.municipality)
        core.CareRelationFactory(citizen=citizen, team=world.team)
        make_plan(episode=EpisodeFactory(citizen=citizen, team=world.team, created_by=world.staff_in_team.user))


@pytest.mark.django_db
def test_triage_costs_the_same_queries_for_3_and_30_citizens(world):
    client = web_client(world.staff_in_team.user)
    _citizens_in_training(world, 3)
    with CaptureQueriesContext(connection) as few:
        assert client.get("/staff/").status_code == 200
    _citizens_in_training(world, 27)
    with CaptureQueriesContext(connection) as many:
        response = client.get("/staff/")
    assert response.content.decode().count('class="triage-card') == 25
    assert len(many) == len(few)


# --- The citizen --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_citizen_page_shows_plan_pain_and_charts_and_logs_one_row(world):
    plan = plan_with_pain_alert(world)
    response = web_client(world.staff_in_team.user).get(f"/staff/borgere/{world.citizen.pk}/")
    body = response.content.decode()
    assert plan.title in body
    assert 'role="img"' in body and '<title id="pain-chart-title">' in body
    assert "<polyline" in body  # pain before and after drawn
    rows = access_rows(world.citizen)
    assert [(row.resource_type, row.action) for row in rows] == [("citizen_overview", "read")]


@pytest.mark.django_db
def test_citizen_page_costs_the_same_queries_whatever_the_history(world):
    plan = plan_with_pain_alert(world)
    client = web_client(world.staff_in_team.user)
    with CaptureQueriesContext(connection) as few:
        client.get(f"/staff/borgere/{world.citizen.pk}/")
    for days in range(1, 15):
        SessionLogFactory(plan=plan, performed_at=timezone.now() - timedelta(days=days), pain_before=3, pain_after=4)
    with CaptureQueriesContext(connection) as many:
        client.get(f"/staff/borgere/{world.citizen.pk}/")
    assert len(many) == len(few)


# --- Lowering the dosage ------------------------------------------------------------------------


def _dosage_data(plan, **changes):
    data = {"version": plan.version, "change_note": "Smerte 8 efter træning: vi sænker dosis."}
    for index, item in enumerate(plan.current_version.exercises.order_by("position")):
        for name in ("sets", "repetitions", "hold_seconds", "duration_seconds", "load_kg"):
            value = getattr(item, name)
            data[f"{index}-{name}"] = "" if value is None else str(value)
    data.update(changes)
    return data


@pytest.mark.django_db
def test_lowering_the_dosage_makes_a_new_version(world):
    plan = plan_with_pain_alert(world)
    client = web_client(world.staff_in_team.user)
    response = client.post(f"/staff/planer/{plan.pk}/dosering/", _dosage_data(plan, **{"0-sets": "1"}))
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.current_version.number == 2
    assert plan.current_version.change_note.startswith("Smerte 8")
    assert plan.current_version.exercises.order_by("position").first().sets == 1


@pytest.mark.django_db
def test_a_bad_dosage_gets_a_danish_error_beside_the_field_and_changes_nothing(world):
    plan = plan_with_pain_alert(world)
    response = web_client(world.staff_in_team.user).post(
        f"/staff/planer/{plan.pk}/dosering/", _dosage_data(plan, **{"0-sets": "0"})
    )
    body = response.content.decode()
    assert response.status_code == 422
    assert 'id="id_0-sets-error">Skal være mindst 1.' in body
    assert TrainingPlanVersion.objects.filter(plan=plan).count() == 1


@pytest.mark.django_db
def test_a_lost_race_says_so_and_shows_the_current_version(world):
    plan = plan_with_pain_alert(world)
    client = web_client(world.staff_in_team.user)
    stale = _dosage_data(plan, **{"0-sets": "1"})
    assert client.post(f"/staff/planer/{plan.pk}/dosering/", _dosage_data(plan, **{"0-sets": "2"})).status_code == 302
    response = client.post(f"/staff/planer/{plan.pk}/dosering/", stale)
    body = response.content.decode()
    assert response.status_code == 409
    assert "En anden har ændret dette imens" in body
    assert "Nuværende version: 2." in body
    assert TrainingPlanVersion.objects.filter(plan=plan).count() == 2


# --- Requests -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_request_is_answered_from_the_inbox(world):
    item = _request(world)
    client = web_client(world.staff_in_team.user)
    assert world.citizen.full_name in client.get("/staff/henvendelser/").content.decode()
    response = client.post(f"/staff/henvendelser/{item.pk}/", {"text": "Vi sænker antallet af gentagelser."})
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == CitizenRequest.Status.ANSWERED
    assert RequestMessage.objects.get(request=item).text == "Vi sænker antallet af gentagelser."


@pytest.mark.django_db
def test_an_empty_reply_is_refused_beside_the_field(world):
    item = _request(world)
    response = web_client(world.staff_in_team.user).post(f"/staff/henvendelser/{item.pk}/", {"text": ""})
    assert response.status_code == 422
    assert 'id="id_text-error">' in response.content.decode()
    assert not RequestMessage.objects.filter(request=item).exists()


@pytest.mark.django_db
def test_closing_a_request(world):
    item = _request(world)
    response = web_client(world.staff_in_team.user).post(f"/staff/henvendelser/{item.pk}/luk/")
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == CitizenRequest.Status.CLOSED


@pytest.mark.django_db
def test_staff_of_another_team_cannot_reply(world):
    item = _request(world)
    response = web_client(world.staff_out_of_team.user).post(f"/staff/henvendelser/{item.pk}/", {"text": "Hej"})
    assert response.status_code == 404
    assert not RequestMessage.objects.filter(request=item).exists()


# --- Security headers ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_pages_carry_the_csp_and_refuse_framing(world):
    response = web_client(world.staff_in_team.user).get("/staff/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy and "unsafe-inline" not in policy
    assert response["X-Frame-Options"] == "DENY"
