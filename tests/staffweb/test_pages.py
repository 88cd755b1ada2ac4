"""The staff pages with the test client: what each role gets, the access log, forms and their errors."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backend.models import AccessLogEntry, StaffRole
from backend.timeutil import municipal_today
from selvbetjening.models import CitizenRequest, Episode, RequestMessage, TrainingPlanVersion
from tests import factories as core
from tests.selvbetjening.factories import (
    CitizenRequestFactory,
    EpisodeContactFactory,
    EpisodeFactory,
    QuestionnaireAssignmentFactory,
)
from tests.selvbetjening.training_factories import SessionLogFactory, make_plan
from tests.staffweb.helpers import access_rows, episode, goal, plan_with_pain_alert, web_client
from tests.velfaerdsteknologi.factories import AlertFactory, AssignmentFactory, category

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
    "goal-rating": (
        "/staff/maal/{goal_id}/vurdering/",
        lambda w: {"goal_id": goal(w).pk},
        {"staff_in_team": 200, "staff_out_of_team": 404, "it": 404, "analyst": 404},
    ),
    "episode-new": (
        "/staff/borgere/{citizen_id}/nyt-forloeb/",
        lambda w: {"citizen_id": w.citizen.pk},
        {"staff_in_team": 200, "staff_out_of_team": 404, "it": 404, "analyst": 404},
    ),
    "goal-new": (
        "/staff/forloeb/{episode_id}/nyt-maal/",
        lambda w: {"episode_id": episode(w).pk},
        {"staff_in_team": 200, "staff_out_of_team": 404, "it": 404, "analyst": 404},
    ),
    "episode-contacts": (
        "/staff/forloeb/{episode_id}/tovholder/",
        lambda w: {"episode_id": episode(w).pk},
        {"staff_in_team": 200, "staff_out_of_team": 404, "it": 404, "analyst": 404},
    ),
    "plan-new": (
        "/staff/forloeb/{episode_id}/ny-plan/",
        lambda w: {"episode_id": episode(w).pk},
        {"staff_in_team": 200, "staff_out_of_team": 404, "it": 404, "analyst": 404},
    ),
    "plan-revise": (
        "/staff/planer/{plan_id}/ny-version/",
        lambda w: {"plan_id": w._plan.pk},
        {"staff_in_team": 200, "staff_out_of_team": 404, "it": 404, "analyst": 404},
    ),
    "episode-status": (
        "/staff/forloeb/{episode_id}/status/",
        lambda w: {"episode_id": episode(w).pk},
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
    "work": (
        "/staff/opgaver/",
        lambda w: {},
        {"staff_in_team": 200, "staff_out_of_team": 200, "it": 404, "analyst": 404},
    ),
    "team": ("/staff/team/", lambda w: {}, {"staff_in_team": 404, "staff_out_of_team": 404, "it": 404, "analyst": 404}),
}


def test_every_staff_page_has_a_matrix_row():
    from staffweb.urls import urlpatterns

    pages = {pattern.name for pattern in urlpatterns if hasattr(pattern, "name")}  # IT: test_it_pages.py
    actions = {
        "login",
        "logout",
        "logout-everywhere",
        "request-close",
        "request-photo",
        "training-alert-ack",
        "training-alert-resolve",
        "device-alert-ack",
        "device-alert-resolve",
        "duty",
        "plan-status",
        "language",
        "exercise-image",
    }
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
    assert "Markøren (cursor) er ugyldig." in response.content.decode()
    assert access_rows(world.citizen) == []


def _in_training(world, family_name):
    citizen = core.CitizenFactory(municipality=world.municipality, family_name=family_name, given_name="Test")
    core.CareRelationFactory(citizen=citizen, team=world.team)
    return make_plan(episode=EpisodeFactory(citizen=citizen, team=world.team, created_by=world.staff_in_team.user))


def _cards(body):
    """Each triage card's text by the citizen's name on it."""
    cards = body.split('<li class="triage-card')[1:]
    return {re.search(r"Test \w+", card).group(0): card for card in cards}


@pytest.mark.django_db
def test_triage_names_the_new_reasons_in_danish_on_the_right_cards(world):
    late_answer = _in_training(world, "Svarfrist")
    CitizenRequestFactory(citizen=late_answer.citizen, team=world.team, respond_by=timezone.now() - timedelta(hours=2))
    questionnaire = _in_training(world, "Skema")
    QuestionnaireAssignmentFactory(
        citizen=questionnaire.citizen, episode=questionnaire.episode, due_on=municipal_today() - timedelta(days=2)
    )
    ending = _in_training(world, "Slutter")
    Episode.objects.filter(pk=ending.episode_id).update(planned_end_date=municipal_today() + timedelta(days=3))
    fallen = _in_training(world, "Faldet")
    AlertFactory(device=AssignmentFactory(citizen=fallen.citizen).device, kind="fall", citizen=fallen.citizen)

    body = web_client(world.staff_in_team.user).get("/staff/").content.decode()

    cards = _cards(body)
    assert "Kræver handling" in cards["Test Svarfrist"]
    assert "Henvendelse ikke besvaret til tiden" in cards["Test Svarfrist"]
    assert "Hold øje" in cards["Test Skema"] and "Spørgeskema ikke besvaret" in cards["Test Skema"]
    assert "Henvendelse ikke besvaret" not in cards["Test Skema"]
    assert "Forløbet slutter inden for en uge" in cards["Test Slutter"]
    assert "Spørgeskema ikke besvaret" not in cards["Test Slutter"]
    assert "Kræver handling" in cards["Test Faldet"] and "Faldalarm fra hjælpemiddel" in cards["Test Faldet"]
    assert "Faldalarm" not in cards["Test Slutter"]
    # red first
    assert body.index("Test Svarfrist") < body.index("Test Skema")


@pytest.mark.django_db
def test_triage_filters_by_contact_person_and_reason(world):
    mine = _in_training(world, "Min")
    EpisodeContactFactory(episode=mine.episode, staff=world.staff_in_team)
    other = _in_training(world, "Anden")
    CitizenRequestFactory(citizen=other.citizen, team=world.team, respond_by=timezone.now() - timedelta(hours=2))
    client = web_client(world.staff_in_team.user)

    page = client.get("/staff/").content.decode()
    assert 'name="contact_person"' in page and 'name="reason"' in page
    assert f'<option value="{world.staff_in_team.pk}">{world.staff_in_team.user.display_name}</option>' in page

    by_contact = client.get("/staff/", {"contact_person": str(world.staff_in_team.pk)}).content.decode()
    assert "Test Min" in by_contact and "Test Anden" not in by_contact
    by_reason = client.get("/staff/", {"reason": "request_overdue"}).content.decode()
    assert "Test Anden" in by_reason and "Test Min" not in by_reason
    not_offered = client.get("/staff/", {"contact_person": str(world.staff_out_of_team.pk)}).content.decode()
    assert "Test Min" not in not_offered and "Test Anden" not in not_offered


@pytest.mark.django_db
def test_triage_next_page_keeps_the_filters(world):
    for index in range(26):
        plan = _in_training(world, f"Borger{index:02d}")
        EpisodeContactFactory(episode=plan.episode, staff=world.staff_in_team)
        CitizenRequestFactory(citizen=plan.citizen, team=world.team, respond_by=timezone.now() - timedelta(hours=2))
    client = web_client(world.staff_in_team.user)
    filters = {"contact_person": str(world.staff_in_team.pk), "reason": "request_overdue", "sort": "name"}

    first = client.get("/staff/", filters).content.decode()
    [link] = re.findall(r'href="(\?team=[^"]+)"', first)
    second = client.get("/staff/" + link.replace("&amp;", "&")).content.decode()

    assert f"contact_person={world.staff_in_team.pk}" in link and "reason=request_overdue" in link
    assert first.count('class="triage-card') == 25 and "Test Borger25" not in first
    assert second.count('class="triage-card') == 1 and "Test Borger25" in second


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


# --- Work lists ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_work_list_shows_the_alert_and_the_evaluation_task_and_logs_the_citizen_once(world):
    plan_with_pain_alert(world)
    response = web_client(world.staff_in_team.user).get("/staff/opgaver/")
    body = response.content.decode()
    assert "smerte 8 efter træning" in body and "Opfølgninger" in body
    assert [row.resource_type for row in access_rows(world.citizen)] == ["work_list"]


@pytest.mark.django_db
def test_a_training_alert_is_acknowledged_then_resolved_with_a_note(world):
    from selvbetjening.models import TrainingAlert

    plan_with_pain_alert(world)
    alert = TrainingAlert.objects.get()
    client = web_client(world.staff_in_team.user)
    assert client.post(f"/staff/opgaver/traeningsalarmer/{alert.pk}/set/").status_code == 302
    alert.refresh_from_db()
    assert alert.status == TrainingAlert.Status.ACKNOWLEDGED
    refused = client.post(f"/staff/opgaver/traeningsalarmer/{alert.pk}/afslut/", {f"{alert.pk}-note": ""})
    assert refused.status_code == 422
    assert f'id="id_{alert.pk}-note-error">Dette felt er påkrævet.' in refused.content.decode()
    alert.refresh_from_db()
    assert alert.status == TrainingAlert.Status.ACKNOWLEDGED
    done = client.post(f"/staff/opgaver/traeningsalarmer/{alert.pk}/afslut/", {f"{alert.pk}-note": "Ringet op"})
    assert done.status_code == 302
    alert.refresh_from_db()
    assert alert.status == TrainingAlert.Status.RESOLVED and alert.resolution_note == "Ringet op"
    again = client.post(f"/staff/opgaver/traeningsalarmer/{alert.pk}/set/")
    assert again.status_code == 409 and "Alarmen er allerede afsluttet." in again.content.decode()


@pytest.mark.django_db
def test_staff_of_another_team_cannot_resolve_the_alert(world):
    from selvbetjening.models import TrainingAlert

    plan_with_pain_alert(world)
    alert = TrainingAlert.objects.get()
    response = web_client(world.staff_out_of_team.user).post(
        f"/staff/opgaver/traeningsalarmer/{alert.pk}/afslut/", {f"{alert.pk}-note": "x"}
    )
    assert response.status_code == 404
    alert.refresh_from_db()
    assert alert.status == TrainingAlert.Status.OPEN


@pytest.mark.django_db
def test_going_on_and_off_duty(world):
    from backend.models import Duty

    client = web_client(world.staff_in_team.user)
    off = client.get("/staff/opgaver/").content.decode().split('id="duty-heading"')[1]
    assert "ikke på vagt" in off and "Gå på vagt" in off and "Gå af vagt" not in off  # only what can be done
    assert client.post(f"/staff/opgaver/vagt/{world.team.pk}/", {"on": "1"}).status_code == 302
    assert Duty.objects.filter(staff=world.staff_in_team, team=world.team).exists()
    on = client.get("/staff/opgaver/").content.decode().split('id="duty-heading"')[1]
    assert "på vagt til" in on and "Gå af vagt" in on and "Gå på vagt" not in on
    assert client.post(f"/staff/opgaver/vagt/{world.team.pk}/", {"on": "0"}).status_code == 302
    assert not Duty.objects.filter(staff=world.staff_in_team).exists()
    assert client.post(f"/staff/opgaver/vagt/{world.other_team.pk}/", {"on": "1"}).status_code == 404


# --- Pausing, resuming and ending a plan --------------------------------------------------------


@pytest.mark.django_db
def test_a_plan_is_paused_resumed_and_ended_and_a_stale_page_is_told(world):
    from selvbetjening.models import TrainingPlan

    plan = plan_with_pain_alert(world)
    client = web_client(world.staff_in_team.user)
    url = f"/staff/planer/{plan.pk}/status/"
    page = client.get(f"/staff/borgere/{world.citizen.pk}/").content.decode()
    assert "Sæt på pause" in page and "Afslut planen" in page
    response = client.post(url, {"version": plan.version, "status": "paused"}, follow=True)
    assert "Træningsplanen er sat på pause." in response.content.decode()
    plan.refresh_from_db()
    assert plan.status == TrainingPlan.Status.PAUSED
    stale = client.post(url, {"version": plan.version - 1, "status": "ended"}, follow=True)
    assert "En anden har ændret dette imens." in stale.content.decode()
    plan.refresh_from_db()
    assert plan.status == TrainingPlan.Status.PAUSED
    client.post(url, {"version": plan.version, "status": "active"})
    plan.refresh_from_db()
    assert plan.status == TrainingPlan.Status.ACTIVE
    outsider = web_client(world.staff_out_of_team.user)
    assert outsider.post(url, {"version": plan.version, "status": "ended"}).status_code == 404
    plan.refresh_from_db()
    assert plan.status == TrainingPlan.Status.ACTIVE


# --- Rating a goal ------------------------------------------------------------------------------


def _rating(rating_id, **changes):
    data = {"rating_id": str(rating_id), "rated_on": municipal_today().strftime("%d-%m-%Y"), "gas_score": "0"}
    data.update({"function_level": "2", "copm_performance": "6", "copm_satisfaction": "7", "note": ""})
    data.update(changes)
    return data


@pytest.mark.django_db
def test_a_goal_is_rated_on_its_own_gas_outcomes_once_per_submission(world):
    import uuid

    from selvbetjening.models import GoalRating

    rated = goal(world)
    client = web_client(world.staff_in_team.user)
    form = client.get(f"/staff/maal/{rated.pk}/vurdering/").content.decode()
    assert rated.gas_0 in form and rated.gas_plus_2 in form
    rating_id = uuid.uuid4()
    assert client.post(f"/staff/maal/{rated.pk}/vurdering/", _rating(rating_id)).status_code == 302
    assert client.post(f"/staff/maal/{rated.pk}/vurdering/", _rating(rating_id)).status_code == 302  # a retry
    rating = GoalRating.objects.get(goal=rated)
    assert (rating.gas_score, rating.function_level, rating.copm_performance) == (0, 2, 6)


@pytest.mark.django_db
def test_a_bad_rating_is_refused_beside_its_field_and_saves_nothing(world):
    import uuid

    from selvbetjening.models import GoalRating

    rated = goal(world)
    client = web_client(world.staff_in_team.user)
    response = client.post(f"/staff/maal/{rated.pk}/vurdering/", _rating(uuid.uuid4(), copm_performance="11"))
    assert response.status_code == 422
    assert 'id="id_copm_performance-error">Må højst være 10.' in response.content.decode()
    future = (municipal_today() + timedelta(days=3)).strftime("%d-%m-%Y")
    response = client.post(f"/staff/maal/{rated.pk}/vurdering/", _rating(uuid.uuid4(), rated_on=future))
    assert response.status_code == 422
    assert 'id="id_rated_on-error">' in response.content.decode()
    assert not GoalRating.objects.filter(goal=rated).exists()


# --- Contact person and stand-in ----------------------------------------------------------------


@pytest.mark.django_db
def test_the_episode_is_handed_over_and_a_stand_in_named(world):
    from selvbetjening.models import EpisodeContact

    made = episode(world)
    colleague = core.StaffFactory(municipality=world.municipality)
    core.MembershipFactory(staff=colleague, team=world.team, role=StaffRole.CARE_WORKER)
    client = web_client(world.staff_in_team.user)
    url = f"/staff/forloeb/{made.pk}/tovholder/"
    assert colleague.user.display_name in client.get(url).content.decode()
    handover = {"action": "handover", "handover-staff_id": str(colleague.pk), "handover-reason": "Ferie"}
    response = client.post(url, handover)
    assert response.status_code == 302
    current = EpisodeContact.objects.get(episode=made, role=EpisodeContact.Role.CONTACT_PERSON, ended_at__isnull=True)
    assert current.staff == colleague
    until = (municipal_today() + timedelta(days=7)).strftime("%d-%m-%Y")
    data = {"action": "stand_in", "stand_in-staff_id": str(world.staff_in_team.pk), "stand_in-until": until}
    assert client.post(url, data).status_code == 302
    stand_ins = EpisodeContact.objects.filter(episode=made, role=EpisodeContact.Role.STAND_IN, ended_at__isnull=True)
    assert [contact.staff for contact in stand_ins] == [world.staff_in_team]


@pytest.mark.django_db
def test_a_stand_in_in_the_past_is_refused_beside_the_date_and_changes_nothing(world):
    from selvbetjening.models import EpisodeContact

    made = episode(world)
    client = web_client(world.staff_in_team.user)
    past = (municipal_today() - timedelta(days=1)).strftime("%d-%m-%Y")
    data = {"action": "stand_in", "stand_in-staff_id": str(world.staff_in_team.pk), "stand_in-until": past}
    response = client.post(f"/staff/forloeb/{made.pk}/tovholder/", data)
    assert response.status_code == 422
    assert 'id="id_stand_in-until-error">' in response.content.decode()
    missing = client.post(f"/staff/forloeb/{made.pk}/tovholder/", {"action": "handover", "handover-staff_id": ""})
    assert missing.status_code == 422 and 'id="id_handover-staff_id-error">' in missing.content.decode()
    assert not EpisodeContact.objects.filter(episode=made, role=EpisodeContact.Role.STAND_IN).exists()


@pytest.mark.django_db
def test_a_device_alert_of_the_teams_citizen_is_acknowledged_then_resolved_from_the_work_list(world):
    from tests.velfaerdsteknologi.factories import AlertFactory, AssignmentFactory

    plan_with_pain_alert(world)  # the citizen in training with the team
    AssignmentFactory(device=world.device, citizen=world.citizen, installed_at=timezone.now())
    alert = AlertFactory(device=world.device, kind="fall", citizen=world.citizen)
    outsider = web_client(world.staff_out_of_team.user)
    assert outsider.post(f"/staff/opgaver/enhedsalarmer/{alert.pk}/set/").status_code == 404
    alert.refresh_from_db()
    assert alert.status == "open"
    client = web_client(world.staff_in_team.user)
    work = client.get("/staff/opgaver/").content.decode()
    assert f"/staff/opgaver/enhedsalarmer/{alert.pk}/set/" in work and alert.get_kind_display() in work
    assert client.post(f"/staff/opgaver/enhedsalarmer/{alert.pk}/set/").status_code == 302
    alert.refresh_from_db()
    assert alert.status == "acknowledged" and alert.acknowledged_by == world.staff_in_team.user
    again = client.post(f"/staff/opgaver/enhedsalarmer/{alert.pk}/set/")
    assert again.status_code == 409
    assert client.post(f"/staff/opgaver/enhedsalarmer/{alert.pk}/afslut/").status_code == 302
    alert.refresh_from_db()
    assert alert.status == "resolved"


def _silent_device(world, citizen, *, serial: str):
    """A device placed with ``citizen`` two hours ago that has not sent a heartbeat for an hour (its model
    expects one every five minutes), and the missing-data alert the periodic check raises for IT."""
    from velfaerdsteknologi.models import Alert, Device, DeviceStatus
    from velfaerdsteknologi.services.alerts import device_model_create, missing_heartbeats_detect

    model = device_model_create(
        manufacturer="Tunstall", model_number=f"Vi-{serial[-3:]}", name="Faldalarm", category=category("fall_detector"),
        telemetry_kinds=["heartbeat", "fall"], heartbeat_interval_seconds=300,
    )  # fmt: skip
    now = timezone.now()
    device = Device.objects.create(
        municipality=world.municipality, model=model, serial_number=serial, status=DeviceStatus.IN_USE,
        status_changed_at=now - timedelta(hours=2), last_seen_at=now - timedelta(hours=1),
    )  # fmt: skip
    AssignmentFactory(device=device, citizen=citizen, installed_at=now - timedelta(hours=2))
    missing_heartbeats_detect(now=now)
    assert Alert.objects.get(device=device).audience == "it"
    return device


def _reasons_on_the_card(client, world) -> str:
    """The reasons the triage page gives on the world's citizen's card."""
    page = client.get("/staff/", {"team": world.team.pk}).content.decode()
    return page.split(f'data-citizen="{world.citizen.pk}"')[1].split('<dl class="triage-figures">')[0]


@pytest.mark.django_db
def test_a_device_gone_silent_is_on_the_work_list_as_on_the_triage_card_until_it_is_heard_from_again(world):
    from velfaerdsteknologi.models import Alert
    from velfaerdsteknologi.services.alerts import alerts_resolve_missing_data

    make_plan(episode=episode(world), title="Styrke og balance")  # the citizen in training with the team
    device = _silent_device(world, world.citizen, serial="VIG-0950")
    client = web_client(world.staff_in_team.user)
    words = "Hjælpemiddel sender ikke livstegn"
    assert words in _reasons_on_the_card(client, world)

    logged_before = {row.pk for row in access_rows(world.citizen)}
    work = client.get("/staff/opgaver/").content.decode()
    devices = work.split('id="device-alerts-heading"')[1].split("</section>")[0]
    link = f'<a href="/staff/borgere/{world.citizen.pk}/#devices-heading">{world.citizen.full_name}</a>: {words}'
    assert link in devices and "VIG-0950" not in devices  # the citizen's device, not IT's register
    assert "Ingen åbne alarmer fra hjælpemidler." not in devices
    assert "IT har fået alarmen og følger op på hjælpemidlet." in devices
    # IT's alert is theirs to handle: nothing on the work list acknowledges or ends it.
    alert = Alert.objects.get(device=device)
    assert str(alert.pk) not in work
    assert [row.resource_type for row in access_rows(world.citizen) if row.pk not in logged_before] == ["work_list"]
    # The page the link leads to shows the device and when it was last heard from.
    citizen_page = client.get(f"/staff/borgere/{world.citizen.pk}/").content.decode()
    assert 'id="devices-heading"' in citizen_page and "Faldalarm" in citizen_page

    other_team = web_client(world.staff_out_of_team.user).get("/staff/opgaver/").content.decode()
    assert words not in other_team and world.citizen.full_name not in other_team

    alerts_resolve_missing_data(device=device)  # a heartbeat came back
    work = client.get("/staff/opgaver/").content.decode()
    assert words not in work and "Ingen åbne alarmer fra hjælpemidler." in work
    assert words not in _reasons_on_the_card(client, world)


@pytest.mark.django_db
def test_the_work_list_reads_silent_devices_in_a_fixed_number_of_queries(world):
    client = web_client(world.staff_in_team.user)
    _silent_device(world, world.citizen, serial="VIG-0951")
    with CaptureQueriesContext(connection) as one:
        assert client.get("/staff/opgaver/").content.decode().count("sender ikke livstegn") == 1
    for number in range(3):
        citizen = core.CitizenFactory(municipality=world.municipality)
        core.CareRelationFactory(citizen=citizen, team=world.team)
        _silent_device(world, citizen, serial=f"VIG-096{number}")
    with CaptureQueriesContext(connection) as four:
        assert client.get("/staff/opgaver/").content.decode().count("sender ikke livstegn") == 4
    assert len(four) == len(one)


@pytest.mark.django_db
def test_the_request_thread_shows_the_citizens_photo_to_the_team_and_logs_its_look_up(world, settings, tmp_path):
    from django.core.files.base import ContentFile

    settings.MEDIA_ROOT = tmp_path
    item = _request(world)
    item.photo.save("rollator.jpg", ContentFile(b"\xff\xd8\xff full"), save=False)
    item.photo_thumbnail.save("rollator-small.jpg", ContentFile(b"\xff\xd8\xff small"), save=True)
    client = web_client(world.staff_in_team.user)
    thread = client.get(f"/staff/henvendelser/{item.pk}/").content.decode()
    assert f'src="/staff/henvendelser/{item.pk}/foto/?size=thumbnail"' in thread
    thumbnail = client.get(f"/staff/henvendelser/{item.pk}/foto/", {"size": "thumbnail"})
    assert thumbnail.status_code == 200 and thumbnail.content == b"\xff\xd8\xff small"
    assert thumbnail["Content-Type"] == "image/jpeg" and "no-store" in thumbnail["Cache-Control"]
    assert client.get(f"/staff/henvendelser/{item.pk}/foto/").content == b"\xff\xd8\xff full"
    assert "request_photo" in {row.resource_type for row in access_rows(world.citizen)}
    outsider = web_client(world.staff_out_of_team.user)
    assert outsider.get(f"/staff/henvendelser/{item.pk}/foto/", {"size": "thumbnail"}).status_code == 404
