"""The whole FHIR record of a citizen: every resource of the set validates with fhir.resources' R4B models,
codes name their terminology system, the CPR number only to entitled callers, the citizen's own export
(`/me/export?format=fhir`), and a round trip that reads the bundle back into the same goals, sessions and
devices."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle

from backend import cpr
from backend.actors import Actor
from backend.models import AccessLogEntry, AppSession
from effekt import fhir
from selvbetjening.models import NetworkGrant, SessionLog
from tests.effekt.population import completed_episode, goal
from tests.selvbetjening import factories
from tests.selvbetjening.training_factories import (
    ProgrammeTemplateFactory,
    ProgrammeTemplateItemFactory,
    SessionLogFactory,
    make_plan,
)
from tests.velfaerdsteknologi.factories import AssignmentFactory, DeviceFactory, DeviceModelFactory, category

pytestmark = pytest.mark.django_db

EXPECTED_KINDS = {
    "Patient",
    "EpisodeOfCare",
    "CarePlan",
    "PlanDefinition",
    "Goal",
    "Observation",
    "QuestionnaireResponse",
    "Device",
    "DeviceUseStatement",
    "Consent",
    "Communication",
}


@pytest.fixture
def record(world):
    """A finished episode with a goal, a plan made from a template with two logged sessions, an answered
    questionnaire, a fall detector installed with consent for the goal, a relative's grant, and a request
    with an answer."""
    episode = completed_episode(world.team, citizen=world.citizen, result="E1")
    walking = goal(episode, gas=1, level=1)
    template = ProgrammeTemplateFactory(municipality=world.municipality, title="Balance i hverdagen")
    ProgrammeTemplateItemFactory(template=template, instructions="Stå ved køkkenbordet")
    plan = make_plan(episode=episode, template=template, title="Balance")
    plan.goals.add(walking)
    sessions = [
        SessionLogFactory(
            plan=plan, performed_at=datetime(2026, 3, 3 + day, 9, 0, tzinfo=UTC), pain_before=5 - day, effort=6
        )
        for day in range(2)
    ]
    factories.QuestionnaireResponseFactory(
        assignment__citizen=world.citizen, assignment__episode=episode, submitted_by=world.citizen.user
    )
    model = DeviceModelFactory(category=category("fall_detector"))
    device = DeviceFactory(municipality=world.municipality, model=model, serial_number="FD-1001")
    assignment = AssignmentFactory(
        device=device,
        citizen=world.citizen,
        episode_id=episode.pk,
        goal_id=walking.pk,
        installed_at=datetime(2026, 3, 5, 12, 0, tzinfo=UTC),
        consent_basis="consent",
        consent_reference="Samtykke givet mundtligt 5/3",
        consent_review_on=date(2027, 3, 5),
        consent_recorded_at=datetime(2026, 3, 5, 12, 0, tzinfo=UTC),
    )
    grant = NetworkGrant.objects.get(citizen=world.citizen, relative=world.relative_with_consent)
    grant.can_log_sessions = False
    grant.save(update_fields=["can_log_sessions"])
    request = factories.CitizenRequestFactory(citizen=world.citizen, team=world.team, episode=episode)
    factories.RequestMessageFactory(request=request, author=world.staff_in_team.user, author_role="therapist")
    return {
        "episode": episode,
        "goal": walking,
        "plan": plan,
        "template": template,
        "sessions": sessions,
        "device": device,
        "assignment": assignment,
        "grant": grant,
        "request": request,
    }


def own_export(world):
    response = world.client("citizen").get("/api/v1/me/export", {"format": "fhir"})
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/fhir+json")
    return response.json()


def _codings(value):
    if isinstance(value, dict):
        if "coding" in value:
            yield from value["coding"]
        for item in value.values():
            yield from _codings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _codings(item)


def test_every_resource_of_the_set_validates_and_every_code_names_its_system(world, record):
    body = own_export(world)
    Bundle.model_validate(body)
    kinds = set()
    for entry in body["entry"]:
        resource = entry["resource"]
        kinds.add(resource["resourceType"])
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        assert entry["fullUrl"] == f"urn:uuid:{resource['id']}"
        for coding in _codings(resource):
            assert coding.get("system"), (resource["resourceType"], coding)
    assert kinds == EXPECTED_KINDS


def test_the_citizen_gets_their_own_cpr_and_the_export_is_logged(world, record):
    body = own_export(world)
    patient = body["entry"][0]["resource"]
    assert patient["identifier"] == [
        {"system": fhir.CPR_SYSTEM, "value": cpr.decrypt(world.citizen.cpr_ciphertext).digits}
    ]
    row = AccessLogEntry.objects.get(citizen=world.citizen)
    assert (row.resource_type, row.action, row.actor_role) == ("fhir_export", "export", "citizen")


def test_the_default_export_format_is_unchanged(world, record):
    response = world.client("citizen").get("/api/v1/me/export")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert "self_service" in response.json() and "resourceType" not in response.json()
    bad = world.client("citizen").get("/api/v1/me/export", {"format": "xml"})
    assert bad.status_code == 422
    assert AccessLogEntry.objects.filter(citizen=world.citizen, resource_type="fhir_export").count() == 0


def test_only_the_citizen_has_the_own_export_and_care_staff_theirs_per_citizen(world, record):
    for role in ("staff_in_team", "analyst", "it", "relative_with_consent"):
        assert world.client(role).get("/api/v1/me/export", {"format": "fhir"}).status_code == 403, role
    staff = world.client("staff_in_team").get(f"/api/v1/citizens/{world.citizen.pk}/fhir")
    assert staff.status_code == 200
    assert staff.json()["entry"][0]["resource"]["identifier"][0]["system"] == fhir.CPR_SYSTEM
    assert AccessLogEntry.objects.filter(citizen=world.citizen, resource_type="fhir_export").count() == 1
    for role in ("staff_out_of_team", "analyst", "it"):
        assert world.client(role).get(f"/api/v1/citizens/{world.citizen.pk}/fhir").status_code in (403, 404)
    assert AccessLogEntry.objects.filter(citizen=world.citizen, resource_type="fhir_export").count() == 1


def test_the_cpr_number_goes_to_entitled_callers_only(world, record):
    def actor(user, audience=AppSession.Audience.STAFF):
        return Actor(user=user, audience=audience)

    assert fhir.cpr_entitled(actor(world.citizen.user, AppSession.Audience.CITIZEN), world.citizen)
    assert not fhir.cpr_entitled(actor(world.other_citizen.user, AppSession.Audience.CITIZEN), world.citizen)
    assert fhir.cpr_entitled(actor(world.staff_in_team.user), world.citizen)
    assert not fhir.cpr_entitled(actor(world.analyst.user), world.citizen)
    assert not fhir.cpr_entitled(actor(world.it_staff.user), world.citizen)
    patient = fhir.citizen_resources(world.citizen, include_cpr=False)[0]
    assert "identifier" not in patient
    assert cpr.decrypt(world.citizen.cpr_ciphertext).digits not in str(patient)


def test_the_bundle_reads_back_into_the_same_goals_sessions_and_devices(world, record):
    """A round trip: the bundle parsed with the R4B models, and from the parsed resources alone the goals,
    sessions and devices that went in."""
    parsed = Bundle.model_validate(own_export(world))
    resources = [entry.resource for entry in parsed.entry]
    by_type: dict[str, list] = {}
    for resource in resources:
        by_type.setdefault(resource.get_resource_type(), []).append(resource)

    goals = {resource.id: resource for resource in by_type["Goal"]}
    assert set(goals) == {str(record["goal"].pk)}
    read_goal = goals[str(record["goal"].pk)]
    assert read_goal.description.text == record["goal"].description
    assert read_goal.target[0].detailInteger == record["goal"].target_level
    assert read_goal.target[1].measure.coding[0].code == "gas"

    sessions = {
        resource.identifier[0].value: resource
        for resource in by_type["Observation"]
        if resource.code.coding[0].code == "training-session"
    }
    logged = SessionLog.objects.filter(citizen=world.citizen)
    assert set(sessions) == {str(session.pk) for session in logged}
    for session in logged:
        read = sessions[str(session.pk)]
        assert read.effectiveDateTime == session.performed_at
        pain = [c.valueInteger for c in read.component if c.code.coding[0].system == fhir.LOINC]
        effort = [c.valueInteger for c in read.component if c.code.coding[0].code == "borg-cr10"]
        assert pain == [session.pain_before, session.pain_after] and effort == [session.effort]
    care_plan = by_type["CarePlan"][0]
    assert {reference.reference for reference in care_plan.activity[0].outcomeReference} == {
        f"urn:uuid:{session.pk}" for session in logged
    }
    assert care_plan.activity[0].detail.instantiatesCanonical == [
        f"urn:mestring:programme-template:{record['template'].pk}"
    ]
    assert by_type["PlanDefinition"][0].url == care_plan.activity[0].detail.instantiatesCanonical[0]

    devices = {resource.identifier[0].value: resource for resource in by_type["Device"]}
    assert set(devices) == {"FD-1001"}
    assert devices["FD-1001"].type.coding[0].code == "fall_detector"
    use = by_type["DeviceUseStatement"][0]
    assert use.device.reference == f"urn:uuid:{record['device'].pk}"
    assert use.reasonReference[0].reference == f"urn:uuid:{record['goal'].pk}"
    assert use.status == "active"

    consents = by_type["Consent"]
    grant = next(c for c in consents if c.id == str(record["grant"].pk))
    assert grant.status == "active"
    assert {action.coding[0].code for action in grant.provision.action} == {
        "can_view_progress",
        "can_receive_reminders",
        "can_send_encouragement",
    }
    device_consent = next(c for c in consents if c.id != str(record["grant"].pk))
    assert device_consent.policyRule.coding[0].code == "OPTIN"
    assert device_consent.provision.data[0].reference.reference == f"urn:uuid:{record['assignment'].pk}"

    communications = by_type["Communication"]
    assert [c.payload[0].contentString for c in communications] == [
        record["request"].text,
        "Vi kommer forbi torsdag.",
    ]
    assert communications[1].inResponseTo[0].reference == f"urn:uuid:{record['request'].pk}"
    answered = by_type["QuestionnaireResponse"][0]
    assert answered.item[0].linkId == "feeling" and answered.item[0].answer[0].valueInteger == 7


def test_a_revoked_grant_and_a_returned_device_go_out_as_inactive(world, record):
    record["grant"].revoked_at = timezone.now() - timedelta(days=1)
    record["grant"].save(update_fields=["revoked_at"])
    record["assignment"].returned_at = timezone.now()
    record["assignment"].save(update_fields=["returned_at"])
    resources = {r["id"]: r for r in (e["resource"] for e in own_export(world)["entry"])}
    assert resources[str(record["grant"].pk)]["status"] == "inactive"
    assert resources[str(record["assignment"].pk)]["status"] == "completed"
    assert resources[str(record["device"].pk)]["status"] == "inactive"


def test_the_record_costs_the_same_queries_with_more_of_everything(world, record, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = world.client("citizen")
    with CaptureQueriesContext(connection) as small:
        client.get("/api/v1/me/export", {"format": "fhir"})
    for day in range(3):
        SessionLogFactory(plan=record["plan"], performed_at=datetime(2026, 3, 10 + day, 9, 0, tzinfo=UTC))
    other = make_plan(episode=completed_episode(world.team, citizen=world.citizen))
    SessionLogFactory(plan=other, performed_at=datetime(2026, 3, 20, 9, 0, tzinfo=UTC))
    AssignmentFactory(
        citizen=world.citizen,
        installed_at=datetime(2026, 3, 6, tzinfo=UTC),
        consent_basis="legal_basis",
        consent_reference="SEL § 112",
        consent_review_on=date(2027, 3, 6),
    )
    factories.NetworkGrantFactory(citizen=world.citizen, relative=world.relative_without_consent)
    factories.RequestMessageFactory(request=factories.CitizenRequestFactory(citizen=world.citizen, team=world.team))
    with django_assert_max_num_queries(len(small)):
        assert client.get("/api/v1/me/export", {"format": "fhir"}).status_code == 200
