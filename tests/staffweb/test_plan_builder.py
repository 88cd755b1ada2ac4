"""The plan builder with a real library: finding exercises among hundreds (words, body area, equipment,
pages) with their pictures, adding and removing them with htmx, each exercise's progression rule, the
plan's grace minutes, and training in the morning and the evening."""

import re
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backend.actors import Actor
from backend.models import AccessLogEntry, AppSession
from selvbetjening.models import Exercise, ExerciseImage, TrainingPlan, TrainingSlot
from staffweb.selectors import LIBRARY_PAGE_SIZE, plan_library_page
from tests.factories import MunicipalityFactory
from tests.selvbetjening.training_factories import ExerciseFactory, make_plan
from tests.staffweb.helpers import web_client
from tests.staffweb.test_plan_pages import _build_data, _revise_data, _running_episode

HTMX = {"HTTP_HX_REQUEST": "true"}
LIBRARY_SIZE = 130


def _library(count=LIBRARY_SIZE):
    """A library of ``count`` exercises spread over body areas and equipment, each with a picture."""
    areas, kinds = Exercise.BodyArea.values, Exercise.Equipment.values
    exercises = []
    for number in range(count):
        exercise = ExerciseFactory(
            title_da=f"Øvelse {number:03d}",
            title_en=f"Exercise {number:03d}",
            body_area=areas[number % len(areas)],
            equipment=kinds[number % len(kinds)],
        )
        ExerciseImage.objects.create(
            exercise=exercise,
            alt_text_da=f"Tegning af øvelse {number:03d}",
            image="x.jpg",
            medium="x.jpg",
            thumbnail="x.jpg",
            width=4,
            height=3,
        )
        exercises.append(exercise)
    return exercises


def _actor(world):
    return Actor(user=world.staff_in_team.user, audience=AppSession.Audience.STAFF)


# --- The library selector ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_library_is_searched_by_words_body_area_and_equipment_a_page_at_a_time(world):
    _library()
    ExerciseFactory(title_da="Tåhævning ved køkkenbordet", body_area="balance", equipment="table")
    ExerciseFactory(title_da="Pensioneret øvelse", is_active=False)
    ExerciseFactory(title_da="Nabokommunens øvelse", municipality=MunicipalityFactory())
    actor = _actor(world)
    first = plan_library_page(actor)
    assert first.total == LIBRARY_SIZE + 1 and first.pages == -(-first.total // LIBRARY_PAGE_SIZE)
    assert [exercise.title_da for exercise in first.exercises][:2] == ["Tåhævning ved køkkenbordet", "Øvelse 000"]
    assert len(first.exercises) == LIBRARY_PAGE_SIZE and first.next_number == 2 and first.previous_number is None
    last = plan_library_page(actor, number=999)  # past the last page: the last
    assert last.number == first.pages and last.next_number is None and last.last == first.total
    assert [exercise.title_da for exercise in plan_library_page(actor, text="KØKKENBORD").exercises] == [
        "Tåhævning ved køkkenbordet"
    ]
    balance = plan_library_page(actor, body_areas=["balance"], equipment=["table"])
    assert balance.total >= 1
    assert all((item.body_area, item.equipment) == ("balance", "table") for item in balance.exercises)
    assert not plan_library_page(actor, text="Pensioneret").total
    assert not plan_library_page(actor, text="Nabokommunens").total


@pytest.mark.django_db
def test_the_library_costs_three_queries_whatever_its_size(world):
    actor = _actor(world)
    actor.care_team_ids()  # the actor's own memberships, read once per request
    _library(3)
    with CaptureQueriesContext(connection) as few:
        small = plan_library_page(actor, text="Øvelse", number=1)
        [list(exercise.images.all()) for exercise in small.exercises]
    _library(LIBRARY_SIZE)
    with CaptureQueriesContext(connection) as many:
        large = plan_library_page(actor, text="Øvelse", number=5)
        [list(exercise.images.all()) for exercise in large.exercises]
    assert len(few) == len(many) == 3
    assert len(large.exercises) == LIBRARY_PAGE_SIZE


# --- Searching and paging on the page, with htmx -----------------------------------------------------


@pytest.mark.django_db
def test_searching_the_library_swaps_in_the_results_with_their_pictures(world):
    running = _running_episode(world)
    _library()
    client = web_client(world.staff_in_team.user)
    url = f"/staff/forloeb/{running.pk}/ny-plan/"
    page = client.get(url).content.decode()
    assert f"Viser 1–{LIBRARY_PAGE_SIZE} af {LIBRARY_SIZE} øvelser" in page
    assert 'name="library-q"' in page and 'hx-get="' in page
    before = AccessLogEntry.objects.count()
    response = client.get(url, {"library-q": "Øvelse 12", "library-body_area": ""}, **HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="library-results"')  # the results alone
    titles = re.findall(r'<span class="staff-exercise-title">([^<]+)<', body)
    assert titles == [f"Øvelse {number:03d}" for number in range(LIBRARY_SIZE) if "12" in f"{number:03d}"]
    assert body.count("/staff/oevelsesbilleder/") == len(titles) and 'alt="Tegning af øvelse 120"' in body
    assert AccessLogEntry.objects.count() == before  # no citizen data in the library
    filtered = client.get(url, {"library-body_area": "hand", "library-equipment": "weights"}, **HTMX).content.decode()
    shown = Exercise.objects.filter(body_area="hand", equipment="weights").count()
    assert f"af {shown} øvelser" in filtered or (shown == 0 and "Ingen øvelser passer" in filtered)


@pytest.mark.django_db
def test_paging_the_library_reaches_every_exercise_and_marks_those_in_the_plan(world):
    running = _running_episode(world)
    exercises = _library()
    client = web_client(world.staff_in_team.user)
    url = f"/staff/forloeb/{running.pk}/ny-plan/"
    last_page = -(-LIBRARY_SIZE // LIBRARY_PAGE_SIZE)
    body = client.get(url, {"library-goto": str(last_page), "exercise": [str(exercises[-1].pk)]}, **HTMX)
    text = body.content.decode()
    assert f"Side {last_page} af {last_page}" in text and "Øvelse 129" in text
    assert re.search(r'id="library-count"[^>]*autofocus', text)  # the focus follows to the new page
    assert "I planen" in text and f'value="{exercises[-1].pk}"' not in text.split("I planen")[0].rsplit("<li", 1)[1]
    assert 'name="library-goto"' in text and "Forrige side" in text and "Næste side" not in text


@pytest.mark.django_db
def test_the_builder_costs_the_same_queries_with_a_library_of_hundreds(world):
    running = _running_episode(world)
    client = web_client(world.staff_in_team.user)
    url = f"/staff/forloeb/{running.pk}/ny-plan/"
    _library(3)
    counts = []
    for size in (3, LIBRARY_SIZE + 3):
        if size > 3:
            _library(LIBRARY_SIZE)
        with CaptureQueriesContext(connection) as page:
            assert client.get(url).status_code == 200
        with CaptureQueriesContext(connection) as search:
            assert client.get(url, {"library-q": "Øvelse", "library-goto": "2"}, **HTMX).status_code == 200
        counts.append((len(page), len(search)))
    assert counts[0] == counts[1]


# --- Adding and removing exercises ---------------------------------------------------------------------


@pytest.mark.django_db
def test_an_exercise_found_past_the_first_hundred_is_added_with_htmx_and_saved(world):
    running = _running_episode(world)
    exercises = _library()
    wanted = exercises[-1]  # "Øvelse 129": far past any first hundred by title
    key = f"ex_{wanted.pk.hex}"
    client = web_client(world.staff_in_team.user)
    url = f"/staff/forloeb/{running.pk}/ny-plan/"
    data = _build_data(wanted)
    del data["exercise"]
    for name in list(data):
        if name.startswith("ex_"):
            del data[name]
    response = client.post(url, {**data, "add_exercise": str(wanted.pk), "library-q": "129"}, **HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="plan-exercises"')
    assert f'<input type="hidden" name="exercise" value="{wanted.pk}">' in body
    assert re.search(rf'name="{key}_sets"[^>]*autofocus', body)  # the focus goes to its dosage
    assert re.search(rf'name="{key}_stop_pain_level"[^>]*value="7"', body)  # the rule starts at the defaults
    assert "Planens øvelse (1)" in body and "I planen" in body
    assert "form-error-message" not in body  # nothing is checked yet
    assert not TrainingPlan.objects.exists()
    saved = client.post(url, {**data, "exercise": [str(wanted.pk)], f"{key}_sets": "2", f"{key}_repetitions": "10"})
    assert saved.status_code == 302
    assert TrainingPlan.objects.get().current_version.exercises.get().exercise_id == wanted.pk


@pytest.mark.django_db
def test_removing_an_exercise_keeps_what_was_typed_for_the_others(world):
    running = _running_episode(world)
    first, second = ExerciseFactory(title_da="Armstrækning"), ExerciseFactory(title_da="Bækkenløft")
    client = web_client(world.staff_in_team.user)
    data = _build_data(first, title="Mit udkast")
    data["exercise"] = [str(first.pk), str(second.pk)]
    data[f"ex_{second.pk.hex}_repetitions"] = "15"
    response = client.post(f"/staff/forloeb/{running.pk}/ny-plan/", {**data, "remove_exercise": str(first.pk)}, **HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert f'name="exercise" value="{first.pk}"' not in body
    assert re.search(rf'name="ex_{second.pk.hex}_repetitions"[^>]*value="15"', body)
    assert re.search(r'id="chosen-heading"[^>]*autofocus', body)
    assert not TrainingPlan.objects.exists()


@pytest.mark.django_db
def test_without_htmx_searching_and_adding_show_the_whole_page(world):
    running = _running_episode(world)
    exercise = ExerciseFactory(title_da="Sidde-rejse")
    client = web_client(world.staff_in_team.user)
    data = {**_build_data(exercise), "action": "search", "library-q": "rejse"}
    page = client.post(f"/staff/forloeb/{running.pk}/ny-plan/", data).content.decode()
    assert "<html" in page and "Viser 1–1 af 1 øvelser" in page and 'value="Trapper og balance"' in page


@pytest.mark.django_db
def test_an_exercise_of_another_municipality_cannot_be_added(world):
    running = _running_episode(world)
    foreign = ExerciseFactory(municipality=MunicipalityFactory())
    own = ExerciseFactory()
    data = _build_data(own)
    data["exercise"] = [str(own.pk), str(foreign.pk)]
    response = web_client(world.staff_in_team.user).post(f"/staff/forloeb/{running.pk}/ny-plan/", data)
    assert response.status_code == 302
    assert [item.exercise_id for item in TrainingPlan.objects.get().current_version.exercises.all()] == [own.pk]


# --- The progression rule and the grace minutes -----------------------------------------------------


@pytest.mark.django_db
def test_the_progression_rule_and_grace_minutes_chosen_are_saved(world):
    running = _running_episode(world)
    exercise = ExerciseFactory()
    key = f"ex_{exercise.pk.hex}"
    rule = {
        f"{key}_progression_after_sessions": "4",
        f"{key}_progression_max_pain": "2",
        f"{key}_progression_effort_min": "4",
        f"{key}_progression_effort_max": "7",
        f"{key}_progression_sets_step": "0",
        f"{key}_progression_repetitions_step": "2",
        f"{key}_progression_hold_seconds_step": "0",
        f"{key}_progression_duration_seconds_step": "0",
        f"{key}_progression_load_kg_step": "0.5",
        f"{key}_stop_pain_level": "6",
    }
    data = _build_data(exercise, grace_minutes="120", **rule)
    response = web_client(world.staff_in_team.user).post(f"/staff/forloeb/{running.pk}/ny-plan/", data)
    assert response.status_code == 302
    version = TrainingPlan.objects.get().current_version
    item = version.exercises.get()
    assert version.grace_minutes == 120
    assert (
        item.progression_after_sessions,
        item.progression_max_pain,
        item.progression_effort_min,
        item.progression_effort_max,
        item.progression_repetitions_step,
        str(item.progression_load_kg_step),
        item.stop_pain_level,
    ) == (4, 2, 4, 7, 2, "0.5", 6)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"progression_effort_min": "6", "progression_effort_max": "4"}, "progression_effort_max", "lavere end"),
        ({"progression_max_pain": "5", "stop_pain_level": "5"}, "stop_pain_level", "højere end den højeste smerte"),
        ({"progression_after_sessions": "3"}, "progression_after_sessions", "Giv et trin over 0"),
        ({"progression_max_pain": "11"}, "progression_max_pain", "Må højst være 10"),
        ({"stop_pain_level": "0"}, "stop_pain_level", "Skal være mindst 1"),
        ({"stop_pain_level": ""}, "stop_pain_level", "påkrævet"),
        ({"progression_load_kg_step": "0.25"}, "progression_load_kg_step", "decimal"),
        ({"sets": "", "repetitions": ""}, "sets", "Skriv mindst én af sæt"),
    ],
)
def test_a_bad_progression_rule_is_refused_in_danish_beside_its_field(world, changes, field, message):
    running = _running_episode(world)
    exercise = ExerciseFactory()
    key = f"ex_{exercise.pk.hex}"
    data = _build_data(exercise, **{f"{key}_{name}": value for name, value in changes.items()})
    response = web_client(world.staff_in_team.user).post(f"/staff/forloeb/{running.pk}/ny-plan/", data)
    assert response.status_code == 422
    body = response.content.decode()
    beside = re.search(rf'<span class="form-error-message" id="id_{key}_{field}-error">([^<]*)</span>', body)
    assert beside is not None, body[:3000]
    assert message in beside.group(1)
    if field.startswith("progression") or field == "stop_pain_level":
        assert re.search(r'<details class="details staff-rule" open>', body)  # the rule is opened to show it
    assert not TrainingPlan.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(("value", "message"), [("1441", "Må højst være 1440"), ("-1", "Skal være mindst 0")])
def test_grace_minutes_outside_the_apis_bounds_are_refused_beside_the_field(world, value, message):
    running = _running_episode(world)
    exercise = ExerciseFactory()
    response = web_client(world.staff_in_team.user).post(
        f"/staff/forloeb/{running.pk}/ny-plan/", _build_data(exercise, grace_minutes=value)
    )
    assert response.status_code == 422
    assert re.search(rf'id="id_grace_minutes-error">{message}', response.content.decode())
    assert not TrainingPlan.objects.exists()


@pytest.mark.django_db
def test_a_new_version_keeps_the_rule_and_grace_and_changes_them_when_asked(world):
    plan = make_plan(episode=_running_episode(world))
    item = plan.current_version.exercises.first()
    key = f"ex_{item.exercise_id.hex}"
    client = web_client(world.staff_in_team.user)
    page = client.get(f"/staff/planer/{plan.pk}/ny-version/").content.decode()
    assert re.search(rf'name="{key}_stop_pain_level"[^>]*value="{item.stop_pain_level}"', page)
    assert re.search(rf'name="grace_minutes"[^>]*value="{plan.current_version.grace_minutes}"', page)
    data = _revise_data(plan, grace_minutes="60", **{f"{key}_stop_pain_level": "9"})
    assert client.post(f"/staff/planer/{plan.pk}/ny-version/", data).status_code == 302
    plan.refresh_from_db()
    assert plan.current_version.grace_minutes == 60
    assert plan.current_version.exercises.get(exercise_id=item.exercise_id).stop_pain_level == 9


# --- Morning and evening -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_morning_and_evening_on_different_minutes_are_previewed_saved_and_shown(world):
    running = _running_episode(world)
    exercise = ExerciseFactory()
    client = web_client(world.staff_in_team.user)
    url = f"/staff/forloeb/{running.pk}/ny-plan/"
    every_day = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
    preview = client.post(url, _build_data(exercise, action="preview", times="19:00, 07:30", weekdays=every_day))
    assert preview.status_code == 200
    listed = preview.content.decode().split('id="preview-heading"')[1].split("</section>")[0]
    times = re.findall(r"kl\. (\d\d:\d\d)</time>", listed)
    assert len(times) == 8 and set(times) == {"07:30", "19:00"}
    assert client.post(url, _build_data(exercise, times="07:30, 19:00", weekdays=["MO", "WE"])).status_code == 302
    version = TrainingPlan.objects.get().current_version
    assert version.recurrence_rule == "FREQ=DAILY;BYDAY=MO,WE;BYHOUR=7,19;BYMINUTE=0,30;BYSETPOS=2,3"
    assert version.start_time.strftime("%H:%M") == "07:30"
    slots = TrainingSlot.objects.filter(plan=version.plan)
    local = {slot.scheduled_at.astimezone(ZoneInfo(world.citizen.time_zone)).strftime("%a %H:%M") for slot in slots}
    assert local <= {"Mon 07:30", "Mon 19:00", "Wed 07:30", "Wed 19:00"} and len(local) >= 2
    plan = version.plan
    revise = client.get(f"/staff/planer/{plan.pk}/ny-version/").content.decode()
    assert 'value="07:30, 19:00"' in revise
    citizen = client.get(f"/staff/borgere/{world.citizen.pk}/").content.decode()
    assert "mandag og onsdag kl. 07:30 og 19:00" in citizen


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        {"library-goto": "abc"},
        {"library-goto": "-3"},
        {"library-body_area": "elbow"},
        {"library-equipment": "<script>"},
        {"library-q": "x" * 500},
        {"library-page": "99999999999999999999"},
    ],
)
def test_a_search_that_cannot_be_used_shows_the_library_and_never_fails(world, query):
    running = _running_episode(world)
    ExerciseFactory(title_da="Armløft")
    response = web_client(world.staff_in_team.user).get(f"/staff/forloeb/{running.pk}/ny-plan/", query, **HTMX)
    assert response.status_code == 200
    assert "<script>" not in response.content.decode()
    assert "Viser 1–1 af 1 øvelser" in response.content.decode() or "Ingen øvelser passer" in response.content.decode()
