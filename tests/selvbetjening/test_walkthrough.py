"""A citizen, their contact person and a relative walk through an episode from creation to the
follow-up result, through the API only."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test.client import MULTIPART_CONTENT

from backend.models import AccessLogEntry, StaffRole
from backend.timeutil import municipal_today
from selvbetjening.models import EvaluationTask, QuestionnaireAssignment
from tests import factories as core
from tests.conftest import ApiClient, access_token_for
from tests.selvbetjening.helpers import goal_body, jpeg_bytes


@pytest.mark.django_db
def test_episode_from_creation_to_follow_up_result(world):
    staff = world.client("staff_in_team")
    citizen = world.client("citizen")
    relative = ApiClient(access_token_for(core.RelativeFactory().user))
    colleague = core.StaffFactory(municipality=world.municipality)
    core.MembershipFactory(staff=colleague, team=world.team, role=StaffRole.CARE_WORKER)
    today = municipal_today()

    # The contact person starts the episode with the citizen.
    created = staff.post(
        "/api/v1/episodes",
        {
            "citizen_id": str(world.citizen.pk),
            "team_id": str(world.team.pk),
            "kind": "everyday_rehabilitation",
            "title": "Klare mig selv igen",
            "start_date": str(today),
            "planned_end_date": str(today + timedelta(days=56)),
            "contact_person_id": str(world.staff_in_team.pk),
            "response_working_days": 2,
        },
    )
    assert created.status_code == 201, created.content
    episode = created.json()
    assert episode["status"] == "planned"
    assert episode["contact_person"]["staff_id"] == str(world.staff_in_team.pk)
    task = EvaluationTask.objects.get(episode_id=episode["id"])
    assert task.assignee == world.staff_in_team and task.due_on == today + timedelta(days=49)
    # Questionnaires marked for episodes go out at the start, midway and the end.
    occasions = sorted(
        QuestionnaireAssignment.objects.filter(episode_id=episode["id"]).values_list("occasion", "due_on")
    )
    assert ("episode_start", today) in occasions and ("episode_end", today + timedelta(days=56)) in occasions
    assert ("episode_midway", today + timedelta(days=28)) in occasions

    activated = staff.post(
        f"/api/v1/episodes/{episode['id']}/transitions", {"version": episode["version"], "status": "active"}
    )
    assert activated.json()["status"] == "active"

    # Two goals in the citizen's own words.
    first = staff.post(f"/api/v1/episodes/{episode['id']}/goals", goal_body()).json()
    second = staff.post(
        f"/api/v1/episodes/{episode['id']}/goals",
        goal_body(description="Lave min egen morgenmad", rank=2, area="household", baseline_gas=-2, target_level=2),
    ).json()
    assert second["expressed_by"] == "citizen" and first["condition"]["system"] == "urn:oid:1.2.208.176.2.21"

    # The citizen sees the end date, whom to contact and how fast requests are answered.
    mine = citizen.get(f"/api/v1/me/episodes/{episode['id']}").json()
    assert mine["planned_end_date"] == str(today + timedelta(days=56))
    assert mine["contact_now"]["name"] == world.staff_in_team.user.display_name
    assert mine["response_working_days"] == 2
    # Baseline T-score: goals at −1 and −2 → 50 + 10·(−3)/sqrt(0.7·2 + 0.3·4) = 31.39.
    assert mine["gas_t_score_baseline"] == pytest.approx(31.39, abs=0.01)

    # Ratings by the citizen and by staff.
    rated = citizen.post(f"/api/v1/me/goals/{first['id']}/ratings", {"gas_score": 0, "copm_performance": 6})
    assert rated.status_code == 201 and rated.json()["rater_role"] == "citizen"
    assert staff.post(f"/api/v1/goals/{second['id']}/ratings", {"gas_score": 1, "function_level": 2}).status_code == 201
    history = staff.get(f"/api/v1/goals/{first['id']}/ratings").json()["items"]
    assert [item["rater_role"] for item in history] == ["citizen"]
    # Now: scores 0 and +1 → 50 + 10/sqrt(2.6) = 56.20.
    assert citizen.get(f"/api/v1/me/episodes/{episode['id']}").json()["gas_t_score"] == pytest.approx(56.20, abs=0.01)

    # The citizen answers the questionnaire due today.
    due = citizen.get("/api/v1/me/questionnaires", {"state": "due"}).json()["items"]
    everyday = next(item for item in due if item["questionnaire_key"] == "everyday-function")
    answers = [
        {"link_id": link_id, "value": "some"}
        for link_id in ("personal_care", "meals", "cleaning", "indoors", "outdoors")
    ]
    answered = citizen.post(f"/api/v1/me/questionnaires/{everyday['id']}/response", {"answers": answers})
    assert answered.status_code == 201 and answered.json()["score"] == "5.000"
    assert staff.get(f"/api/v1/questionnaires/assignments/{everyday['id']}").json()["answers"][0]["value"] == "some"

    # The citizen invites a relative, who accepts after logging in and follows progress.
    invitation = citizen.post(
        "/api/v1/me/network/invitations",
        {"label": "Min datter", "scopes": ["view_progress", "send_encouragement"]},
    ).json()
    accepted = relative.post("/api/v1/relative/invitations/accept", {"code": invitation["code"].lower()})
    assert accepted.status_code == 201
    progress = relative.get(f"/api/v1/relative/citizens/{world.citizen.pk}/progress").json()
    assert [goal["description"] for goal in progress["episodes"][0]["goals"]][0] == first["description"]
    cheer = relative.post(f"/api/v1/relative/citizens/{world.citizen.pk}/encouragements", {"text": "Flot!"})
    assert cheer.status_code == 201
    assert citizen.get("/api/v1/me/network/encouragements").json()["items"][0]["text"] == "Flot!"
    # The same code cannot be used twice.
    assert relative.post("/api/v1/relative/invitations/accept", {"code": invitation["code"]}).status_code == 404

    # A request with a photo, answered from the team inbox.
    request = citizen.post("/api/v1/me/requests", {"category": "assistive_device", "text": "Rollatoren knirker"}).json()
    assert request["team_id"] == str(world.team.pk) and request["episode_id"] == episode["id"]
    photo = SimpleUploadedFile("rollator.jpg", jpeg_bytes(), content_type="image/jpeg")
    uploaded = citizen.post(
        f"/api/v1/me/requests/{request['id']}/photo", {"photo": photo}, content_type=MULTIPART_CONTENT
    )
    assert uploaded.status_code == 200, uploaded.content
    assert uploaded.json()["has_photo"] is True
    inbox = staff.get("/api/v1/staff/requests").json()["items"]
    assert [item["id"] for item in inbox] == [request["id"]]
    thumbnail = staff.get(f"/api/v1/staff/requests/{request['id']}/photo", {"size": "thumbnail"})
    assert thumbnail.status_code == 200 and thumbnail["Content-Type"] == "image/jpeg"
    assert (
        staff.post(f"/api/v1/staff/requests/{request['id']}/messages", {"text": "Vi kommer torsdag"}).status_code == 201
    )
    seen = citizen.get(f"/api/v1/me/requests/{request['id']}").json()
    assert seen["status"] == "answered" and seen["messages"][0]["author_role"] == "staff"

    # Handover while the episode runs; the evaluation task follows the contact person.
    staff.post(f"/api/v1/episodes/{episode['id']}/contact-person", {"staff_id": str(colleague.pk), "reason": "Ferie"})
    detail = staff.get(f"/api/v1/episodes/{episode['id']}").json()
    assert detail["contact_person"]["staff_id"] == str(colleague.pk)
    assert [c["ended_at"] is None for c in detail["contact_history"]] == [False, True]
    assert EvaluationTask.objects.get(episode_id=episode["id"]).assignee == colleague

    # Completion needs a follow-up result from the code list.
    version = detail["version"]
    refused = staff.post(f"/api/v1/episodes/{episode['id']}/transitions", {"version": version, "status": "completed"})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "follow_up_result"
    done = staff.post(
        f"/api/v1/episodes/{episode['id']}/transitions",
        {
            "version": version,
            "status": "completed",
            "follow_up_result": "E1",
            "note": "Går selv efter avisen",
        },
    ).json()
    assert done["status"] == "completed" and done["follow_up_result"]["code"] == "E1"
    assert done["follow_up_result"]["display"] == "Målet er nået"
    assert [change["to_status"] for change in done["status_history"]] == ["planned", "active", "completed"]
    assert EvaluationTask.objects.get(episode_id=episode["id"]).status == "done"
    assert not QuestionnaireAssignment.objects.filter(episode_id=episode["id"], status="pending").exists()
    # A completed episode does not move again.
    again = staff.post(
        f"/api/v1/episodes/{episode['id']}/transitions", {"version": done["version"], "status": "active"}
    )
    assert again.status_code == 409 and again.json()["code"] == "illegal_transition"

    # The relative's reads are in the citizen's access log, marked as a relative's.
    log = citizen.get("/api/v1/me/access-log").json()["items"]
    assert any(entry["actor_role"] == "relative" and entry["resource_type"] == "progress" for entry in log)
    assert AccessLogEntry.objects.filter(citizen=world.citizen, actor_role="relative", action="create").exists()

    # And all of it is in the citizen's export.
    export = citizen.get("/api/v1/me/export").json()["self_service"]
    assert export["episodes"][0]["follow_up_result"] == "E1"
    assert {goal["description"] for goal in export["goals"]} == {first["description"], second["description"]}
    assert any(item["answers"] for item in export["questionnaires"])
    assert export["requests"][0]["messages"][0]["text"] == "Vi kommer torsdag"
    assert export["network"]["encouragements"][0]["text"] == "Flot!"
    assert {tuple(grant["scopes"]) for grant in export["network"]["grants"]} >= {
        ("view_progress", "send_encouragement")
    }


@pytest.mark.django_db
def test_english_texts_follow_accept_language(world, episode):
    response = world.client("citizen").get(f"/api/v1/me/episodes/{episode.pk}", headers={"Accept-Language": "en"})
    assert response.json()["kind_name"].startswith("Everyday rehabilitation")
    results = world.client("citizen").get("/api/v1/code-lists/follow-up-results", headers={"Accept-Language": "en"})
    assert [item["code"] for item in results.json()] == ["E1", "E2", "E3", "E4"]
    assert results.json()[3]["display"] == "The goal is no longer relevant"
