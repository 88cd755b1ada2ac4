"""The citizen page's plan history, network and devices; building and changing a plan; completing the
episode; the language switch."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backend.models import AccessLogEntry
from backend.timeutil import municipal_today
from selvbetjening.models import Episode, ProgressionDecision, TrainingPlan, TrainingSlot
from tests.selvbetjening.factories import FollowUpResultFactory, GoalFactory, NetworkGrantFactory
from tests.selvbetjening.training_factories import (
    ExerciseFactory,
    ProgrammeTemplateFactory,
    ProgrammeTemplateItemFactory,
    make_plan,
)
from tests.staffweb.helpers import access_rows, episode, plan_with_pain_alert, web_client
from tests.velfaerdsteknologi.factories import AssignmentFactory

# --- The citizen page ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_citizen_page_shows_versions_and_progression_decisions_with_their_reasons(world):
    plan = plan_with_pain_alert(world)
    log = plan.session_logs.first()
    item = plan.current_version.exercises.first()
    ProgressionDecision.objects.create(
        plan=plan, plan_exercise=item, session_log=log, outcome="stopped", reason="pain_at_stop_level"
    )
    ProgressionDecision.objects.create(
        plan=plan, plan_exercise=item, session_log=log, outcome="held", reason="not_enough_sessions"
    )
    body = web_client(world.staff_in_team.user).get(f"/staff/borgere/{world.citizen.pk}/").content.decode()
    assert "Versioner (1)" in body and "Progressionsbeslutninger (2)" in body
    assert "Smerten nåede stopgrænsen" in body
    assert "Ikke nok træninger på den nuværende dosering endnu" in body
    assert "mandag, onsdag og fredag kl. 10:00" in body


@pytest.mark.django_db
def test_citizen_page_shows_the_network_read_only_and_the_devices_without_telemetry(world):
    plan_with_pain_alert(world)
    NetworkGrantFactory(
        citizen=world.citizen,
        label="Nabo Jens",
        can_view_progress=True,
        can_receive_reminders=False,
        can_log_sessions=False,
        can_send_encouragement=True,
        valid_until=timezone.now() + timedelta(days=30),
    )
    NetworkGrantFactory(citizen=world.other_citizen, label="Ikke hans datter")
    device = world.device
    device.last_seen_at = timezone.now() - timedelta(hours=3)
    device.battery_level = 17
    device.save()
    AssignmentFactory(device=device, citizen=world.citizen, installed_at=timezone.now() - timedelta(days=10))
    AssignmentFactory(citizen=world.other_citizen, installed_at=timezone.now())
    returned = AssignmentFactory(citizen=world.citizen, installed_at=timezone.now() - timedelta(days=90))
    returned.returned_at = timezone.now() - timedelta(days=5)
    returned.save()
    body = web_client(world.staff_in_team.user).get(f"/staff/borgere/{world.citizen.pk}/").content.decode()
    network = body.split('id="network-heading"')[1].split("</section>")[0]
    assert "Nabo Jens" in network and "se fremskridt, sende opmuntringer" in network
    assert "Ikke hans datter" not in network
    assert "<form" not in network and "<button" not in network  # read-only
    devices = body.split('id="devices-heading"')[1].split("</section>")[0]
    assert device.model.manufacturer in devices
    assert devices.count("<tr>") == 2  # the header and the one device placed now
    # No telemetry beyond status and last seen (a bare "17" could be part of a serial number or a time).
    assert "17 %" not in devices and "17%" not in devices and "batteri" not in devices.lower()
    rows = access_rows(world.citizen)
    assert len(rows) == 1 and rows[0].purpose == AccessLogEntry.Purpose.CARE


@pytest.mark.django_db
def test_citizen_page_costs_the_same_queries_with_more_versions_grants_and_devices(world):
    plan = plan_with_pain_alert(world)
    client = web_client(world.staff_in_team.user)
    with CaptureQueriesContext(connection) as few:
        client.get(f"/staff/borgere/{world.citizen.pk}/")
    log = plan.session_logs.first()
    for _ in range(5):
        ProgressionDecision.objects.create(
            plan=plan,
            plan_exercise=plan.current_version.exercises.first(),
            session_log=log,
            outcome="held",
            reason="pain_above_threshold",
        )
        NetworkGrantFactory(citizen=world.citizen)
        AssignmentFactory(citizen=world.citizen, installed_at=timezone.now())
    make_plan(episode=episode(world), title="Gang")
    with CaptureQueriesContext(connection) as many:
        client.get(f"/staff/borgere/{world.citizen.pk}/")
    assert len(many) == len(few)


# --- Building a plan ----------------------------------------------------------------------------


def _build_data(exercise, **changes):
    key = f"ex_{exercise.pk.hex}"
    data = {
        "action": "save",
        "title": "Trapper og balance",
        "weekdays": ["TU", "TH"],
        "times": "09:30",
        "start_date": municipal_today().strftime("%d-%m-%Y"),
        "end_date": (municipal_today() + timedelta(days=40)).strftime("%d-%m-%Y"),
        "exercise": [str(exercise.pk)],
        "grace_minutes": "480",
        f"{key}_sets": "3",
        f"{key}_repetitions": "8",
        f"{key}_instructions": "Hold fast i gelænderet.",
    }
    data.update(changes)
    return data


def _running_episode(world):
    running = episode(world)
    running.status = Episode.Status.ACTIVE
    running.start_date = municipal_today() - timedelta(days=3)
    running.planned_end_date = municipal_today() + timedelta(days=60)
    running.save()
    return running


@pytest.mark.django_db
def test_a_plan_is_built_from_scratch_with_its_slots(world):
    running = _running_episode(world)
    exercise = ExerciseFactory(title_da="Trappetrin")
    goal = GoalFactory(episode=running)
    client = web_client(world.staff_in_team.user)
    page = client.get(f"/staff/forloeb/{running.pk}/ny-plan/").content.decode()
    assert "Trappetrin" in page
    response = client.post(f"/staff/forloeb/{running.pk}/ny-plan/", _build_data(exercise, goal_ids=[str(goal.pk)]))
    assert response.status_code == 302
    plan = TrainingPlan.objects.get(title="Trapper og balance")
    version = plan.current_version
    assert version.recurrence_rule == "FREQ=WEEKLY;BYDAY=TU,TH"
    assert version.start_time.strftime("%H:%M") == "09:30"
    item = version.exercises.get()
    assert (item.exercise_id, item.sets, item.repetitions, item.instructions) == (
        exercise.pk,
        3,
        8,
        "Hold fast i gelænderet.",
    )
    assert list(plan.goals.all()) == [goal]
    assert TrainingSlot.objects.filter(plan=plan).exists()


@pytest.mark.django_db
def test_the_preview_shows_the_next_times_by_the_schedule_rules_and_saves_nothing(world):
    running = _running_episode(world)
    exercise = ExerciseFactory()
    data = _build_data(
        exercise, action="preview", times="08:00, 18:00", weekdays=["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
    )
    response = web_client(world.staff_in_team.user).post(f"/staff/forloeb/{running.pk}/ny-plan/", data)
    assert response.status_code == 200
    body = response.content.decode()
    preview = body.split('id="preview-heading"')[1].split("</section>")[0]
    times = re.findall(r"kl\. (\d\d:\d\d)</time>", preview)
    assert len(times) == 8 and set(times) == {"08:00", "18:00"}
    assert not TrainingPlan.objects.exists()


@pytest.mark.django_db
def test_a_plan_from_a_template_takes_its_exercises_dosage_and_schedule(world):
    running = _running_episode(world)
    template = ProgrammeTemplateFactory(
        municipality=world.municipality, title="Knæ efter operation", recurrence_rule="FREQ=WEEKLY;BYDAY=MO,FR"
    )
    item = ProgrammeTemplateItemFactory(
        template=template, sets=2, repetitions=12, progression_after_sessions=3, progression_repetitions_step=2
    )
    client = web_client(world.staff_in_team.user)
    url = f"/staff/forloeb/{running.pk}/ny-plan/"
    page = client.post(url, {"action": "template", "template_id": str(template.pk), "title": ""}).content.decode()
    key = f"ex_{item.exercise_id.hex}"
    assert f'name="exercise" value="{item.exercise_id}"' in page
    assert re.search(rf'name="{key}_repetitions"[^>]*value="12"', page)
    assert re.search(r'value="MO"[^>]*checked', page) and re.search(r'value="FR"[^>]*checked', page)
    data = _build_data(item.exercise, template_id=str(template.pk), weekdays=["MO", "FR"], times="10:00")
    data[f"{key}_sets"], data[f"{key}_repetitions"] = "2", "12"
    assert client.post(url, data).status_code == 302
    plan = TrainingPlan.objects.get()
    assert plan.template == template
    made = plan.current_version.exercises.get()
    # The template's progression rule comes along with the dosage.
    assert (made.progression_after_sessions, made.progression_repetitions_step) == (3, 2)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"times": "25:00"}, "times", "er ikke et klokkeslæt"),
        ({"times": "06:00, 08:00, 10:00, 12:00, 14:00, 16:00, 18:00"}, "times", "Højst 6 tidspunkter"),
        ({"weekdays": []}, "weekdays", "Vælg mindst én ugedag"),
        ({"sets": "0"}, "sets", "Skal være mindst 1"),
        ({"title": ""}, "title", "Dette felt er påkrævet"),
        ({"end_date": "01-01-2020"}, "end_date", ""),
    ],
)
def test_bad_input_gets_a_danish_error_beside_the_field_and_makes_no_plan(world, changes, field, message):
    running = _running_episode(world)
    exercise = ExerciseFactory()
    key = f"ex_{exercise.pk.hex}"
    if "sets" in changes:
        changes = {f"{key}_sets": changes["sets"]}
        field = f"{key}_sets"
    before = AccessLogEntry.objects.filter(action="create").count()
    response = web_client(world.staff_in_team.user).post(
        f"/staff/forloeb/{running.pk}/ny-plan/", _build_data(exercise, **changes)
    )
    assert response.status_code == 422
    body = response.content.decode()
    beside = re.search(rf'<span class="form-error-message" id="id_{field}[^"]*-error">([^<]*)</span>', body)
    assert beside is not None, body[:2000]
    assert message in beside.group(1)
    assert not TrainingPlan.objects.exists()
    assert AccessLogEntry.objects.filter(action="create").count() == before


@pytest.mark.django_db
def test_no_exercise_chosen_is_said_above_the_form(world):
    running = _running_episode(world)
    exercise = ExerciseFactory()
    data = _build_data(exercise)
    del data["exercise"]
    response = web_client(world.staff_in_team.user).post(f"/staff/forloeb/{running.pk}/ny-plan/", data)
    assert response.status_code == 422
    assert "Vælg mindst én øvelse fra biblioteket." in response.content.decode()
    assert not TrainingPlan.objects.exists()


@pytest.mark.django_db
def test_staff_of_another_team_cannot_build_a_plan(world):
    running = _running_episode(world)
    exercise = ExerciseFactory()
    response = web_client(world.staff_out_of_team.user).post(
        f"/staff/forloeb/{running.pk}/ny-plan/", _build_data(exercise)
    )
    assert response.status_code == 404
    assert not TrainingPlan.objects.exists()


# --- Changing a plan ----------------------------------------------------------------------------


def _revise_data(plan, **changes):
    version = plan.current_version
    data = {
        "action": "save",
        "version": str(plan.version),
        "weekdays": ["MO", "WE", "FR"],
        "times": "10:00",
        "start_date": version.start_date.strftime("%d-%m-%Y"),
        "end_date": version.end_date.strftime("%d-%m-%Y"),
        "change_note": "Flere gentagelser og en ekstra dag.",
        "grace_minutes": str(version.grace_minutes),
        "exercise": [str(item.exercise_id) for item in version.exercises.all()],
    }
    for item in version.exercises.all():
        key = f"ex_{item.exercise_id.hex}"
        for name in ("sets", "repetitions", "hold_seconds", "duration_seconds", "load_kg"):
            value = getattr(item, name)
            data[f"{key}_{name}"] = "" if value is None else str(value)
    data.update(changes)
    return data


@pytest.mark.django_db
def test_changing_the_plan_makes_a_new_version_with_the_new_schedule_and_exercise(world):
    plan = make_plan(episode=_running_episode(world))
    added = ExerciseFactory(title_da="Tåhævninger")
    key = f"ex_{added.pk.hex}"
    client = web_client(world.staff_in_team.user)
    page = client.get(f"/staff/planer/{plan.pk}/ny-version/").content.decode()
    assert re.search(r'value="WE"[^>]*checked', page) and "Tåhævninger" in page
    data = _revise_data(plan, weekdays=["MO", "WE", "FR", "SA"], **{f"{key}_sets": "2"})
    data["exercise"] = [*data["exercise"], str(added.pk)]
    response = client.post(f"/staff/planer/{plan.pk}/ny-version/", data)
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.current_version.number == 2
    assert plan.current_version.recurrence_rule == "FREQ=WEEKLY;BYDAY=MO,WE,FR,SA"
    assert plan.current_version.change_note == "Flere gentagelser og en ekstra dag."
    assert added.pk in {item.exercise_id for item in plan.current_version.exercises.all()}


@pytest.mark.django_db
def test_a_lost_race_on_the_plan_says_so_and_shows_the_current_version(world):
    plan = make_plan(episode=_running_episode(world))
    stale = _revise_data(plan)
    client = web_client(world.staff_in_team.user)
    assert client.post(f"/staff/planer/{plan.pk}/ny-version/", _revise_data(plan, times="11:00")).status_code == 302
    response = client.post(f"/staff/planer/{plan.pk}/ny-version/", {**stale, "times": "07:00"})
    assert response.status_code == 409
    body = response.content.decode()
    assert "En anden har ændret dette imens" in body
    assert 'value="11:00"' in body  # the version in force now
    plan.refresh_from_db()
    assert plan.current_version.number == 2 and plan.current_version.start_time.hour == 11


@pytest.mark.django_db
def test_a_bad_change_is_refused_beside_the_field_and_keeps_the_version(world):
    plan = make_plan(episode=_running_episode(world))
    response = web_client(world.staff_in_team.user).post(
        f"/staff/planer/{plan.pk}/ny-version/", _revise_data(plan, change_note="")
    )
    assert response.status_code == 422
    assert re.search(r'id="id_change_note-error">Dette felt er påkrævet', response.content.decode())
    plan.refresh_from_db()
    assert plan.current_version.number == 1


@pytest.mark.django_db
def test_exercise_pictures_are_served_to_care_staff_only(world):
    client = web_client(world.staff_in_team.user)
    assert client.get("/staff/oevelsesbilleder/00000000-0000-0000-0000-000000000000/thumbnail/").status_code == 404
    assert (
        web_client(world.it_staff.user)
        .get("/staff/oevelsesbilleder/00000000-0000-0000-0000-000000000000/thumbnail/")
        .status_code
        == 404
    )


# --- Completing the episode ---------------------------------------------------------------------


@pytest.mark.django_db
def test_the_episode_is_completed_with_its_follow_up_result(world):
    running = _running_episode(world)
    FollowUpResultFactory(code="E1", display_da="Målet er nået")
    FollowUpResultFactory(code="E3", display_da="Målet er ikke nået")
    plan = make_plan(episode=running)
    client = web_client(world.staff_in_team.user)
    page = client.get(f"/staff/forloeb/{running.pk}/status/").content.decode()
    assert "E1: Målet er nået" in page and "Afslut forløbet med opfølgning" in page
    data = {"version": str(running.version), "status": "completed", "follow_up_result": "E1", "note": "Går selv."}
    assert client.post(f"/staff/forloeb/{running.pk}/status/", data).status_code == 302
    running.refresh_from_db()
    plan.refresh_from_db()
    assert (running.status, running.follow_up_result_id, running.follow_up_note) == ("completed", "E1", "Går selv.")
    assert plan.status == TrainingPlan.Status.ENDED
    citizen_page = client.get(f"/staff/borgere/{world.citizen.pk}/").content.decode()
    assert "E1 Målet er nået" in citizen_page


@pytest.mark.django_db
def test_completing_without_a_result_is_refused_beside_the_field_and_changes_nothing(world):
    running = _running_episode(world)
    FollowUpResultFactory(code="E1", display_da="Målet er nået")
    data = {"version": str(running.version), "status": "completed", "follow_up_result": "", "note": ""}
    response = web_client(world.staff_in_team.user).post(f"/staff/forloeb/{running.pk}/status/", data)
    assert response.status_code == 422
    assert re.search(r'id="id_follow_up_result-error">Vælg opfølgningsresultatet', response.content.decode())
    running.refresh_from_db()
    assert running.status == Episode.Status.ACTIVE


@pytest.mark.django_db
def test_a_stale_status_page_is_told_and_shown_the_episode_as_it_is(world):
    running = _running_episode(world)
    client = web_client(world.staff_in_team.user)
    stale = str(running.version)
    assert (
        client.post(
            f"/staff/forloeb/{running.pk}/status/", {"version": stale, "status": "on_hold", "note": ""}
        ).status_code
        == 302
    )
    response = client.post(f"/staff/forloeb/{running.pk}/status/", {"version": stale, "status": "cancelled"})
    assert response.status_code == 409
    assert "En anden har ændret dette imens" in response.content.decode()
    running.refresh_from_db()
    assert running.status == Episode.Status.ON_HOLD


# --- Language -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_language_switch_turns_the_pages_english_and_stays_so(world):
    plan_with_pain_alert(world)
    client = web_client(world.staff_in_team.user)
    assert "Mit team" in client.get("/staff/").content.decode()
    response = client.post("/staff/sprog/", {"language": "en", "next": "/staff/"})
    assert response.status_code == 302 and response["Location"] == "/staff/"
    triage = client.get("/staff/").content.decode()
    assert '<html lang="en">' in triage and "My team" in triage and "Mit team" not in triage
    citizen = client.get(f"/staff/borgere/{world.citizen.pk}/").content.decode()
    assert "Training plan" in citizen and "Network" in citizen and "Assistive devices" in citizen
    client.post("/staff/sprog/", {"language": "da", "next": "/staff/"})
    assert "Mit team" in client.get("/staff/").content.decode()


@pytest.mark.django_db
def test_an_unknown_language_or_a_foreign_next_changes_nothing_harmful(world):
    client = web_client(world.staff_in_team.user)
    response = client.post("/staff/sprog/", {"language": "xx", "next": "https://evil.example/"})
    assert response.status_code == 302 and not response["Location"].startswith("https://evil")
    assert "Mit team" in client.get("/staff/").content.decode()


def test_every_english_message_is_compiled():
    """The committed .mo holds every translation the .po has (``msgfmt`` output is committed)."""
    import gettext
    from pathlib import Path

    from django.conf import settings

    folder = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES"
    with (folder / "django.mo").open("rb") as handle:
        catalog = gettext.GNUTranslations(handle)
    entries = _po_entries((folder / "django.po").read_text(encoding="utf-8"))
    assert len(entries) > 100
    for msgid, msgstr in entries.items():
        assert catalog.gettext(msgid) == msgstr, msgid


def _po_entries(text):
    """msgid → msgstr; an entry with a context is keyed as the compiled catalogue keys it (context, EOT, msgid)."""
    entries, msgid, msgstr, current, context = {}, None, None, None, None
    for line in [*text.splitlines(), ""]:
        if line.startswith("msgctxt "):
            context, current = _unquote(line[8:]), "ctxt"
        elif line.startswith("msgid "):
            if msgid and msgstr:
                entries[msgid] = msgstr
            msgid, msgstr, current = _unquote(line[6:]), None, "id"
            if context is not None:
                msgid, context = f"{context}\x04{msgid}", None
        elif line.startswith("msgstr "):
            msgstr, current = _unquote(line[7:]), "str"
        elif line.startswith('"'):
            if current == "id":
                msgid += _unquote(line)
            elif current == "str":
                msgstr += _unquote(line)
        elif not line.strip():
            if msgid and msgstr:
                entries[msgid] = msgstr
            msgid, msgstr, current, context = None, None, None, None
    return entries


def _unquote(text):
    import ast

    return ast.literal_eval(text.strip())


@pytest.mark.django_db
def test_the_plan_pages_cost_the_same_queries_whatever_the_library_and_templates(world):
    running = _running_episode(world)
    plan = make_plan(episode=running)
    ProgrammeTemplateItemFactory(template=ProgrammeTemplateFactory(municipality=world.municipality))
    client = web_client(world.staff_in_team.user)
    urls = (f"/staff/forloeb/{running.pk}/ny-plan/", f"/staff/planer/{plan.pk}/ny-version/")
    few = []
    for url in urls:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        few.append(len(queries))
    for _ in range(6):
        ProgrammeTemplateItemFactory(template=ProgrammeTemplateFactory(municipality=world.municipality))
        ExerciseFactory()
    GoalFactory(episode=running)
    many = []
    for url in urls:
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        many.append(len(queries))
    assert many == few
