"""FHIR R4 for exchange with the national infrastructure: one citizen's record as a ``Bundle`` shaped after
the Danish telehealth profiles, and an indicator's values as a ``MeasureReport``.

The bundle holds Patient (the CPR number as identifier only for a caller entitled to it), EpisodeOfCare,
CarePlan with its activities (the training plan and its exercises with their dosage), PlanDefinition (the
programme templates the plans came from), Goal (FSIII condition and level, the GAS expected level),
Observation (goal ratings: GAS, FSIII, COPM; training sessions: pain NRS before and after, Borg CR10
effort), QuestionnaireResponse, Device and DeviceUseStatement, Consent (network grants, device consent or
legal basis) and Communication (requests and their messages). Codes name their terminology system.

Every resource in the bundle is addressed by a ``urn:uuid:`` full URL and referenced by it. The export is
written to the citizen's access log as an export before it leaves.
"""

from typing import TYPE_CHECKING, Any
from uuid import NAMESPACE_URL, UUID, uuid5

from django.db.models import Prefetch
from django.utils import timezone

from backend import cpr
from backend.access import grant_in_force
from backend.access.rules import Moments
from backend.actors import CARE, Actor
from backend.audit import access_log_record
from backend.models import AccessLogEntry, Citizen
from backend.services.export import export_format
from effekt.indicators.evaluator import Cell
from selvbetjening.models import (
    CitizenRequest,
    Episode,
    EpisodeContact,
    Goal,
    GoalRating,
    NetworkGrant,
    PlanExercise,
    ProgrammeTemplate,
    QuestionnaireResponse,
    SessionLog,
    TrainingPlan,
)
from selvbetjening.models.goals import FSIII_CODE_SYSTEM
from selvbetjening.texts import pick
from velfaerdsteknologi.models import Assignment, ConsentBasis

if TYPE_CHECKING:
    from effekt.selectors import IndicatorResult

CPR_SYSTEM = "urn:oid:1.2.208.176.1.2"
GOAL_ACHIEVEMENT_SYSTEM = "http://terminology.hl7.org/CodeSystem/goal-achievement"
EXPORT_RESOURCE_TYPE = "fhir_export"
CONTENT_TYPE = "application/fhir+json; charset=utf-8"

EPISODE_OF_CARE_STATUS = {
    Episode.Status.PLANNED: "planned",
    Episode.Status.ACTIVE: "active",
    Episode.Status.ON_HOLD: "onhold",
    Episode.Status.COMPLETED: "finished",
    Episode.Status.CANCELLED: "cancelled",
}
CARE_PLAN_STATUS = {
    Episode.Status.PLANNED: "draft",
    Episode.Status.ACTIVE: "active",
    Episode.Status.ON_HOLD: "on-hold",
    Episode.Status.COMPLETED: "completed",
    Episode.Status.CANCELLED: "revoked",
}
TRAINING_PLAN_ACTIVITY_STATUS = {"active": "in-progress", "paused": "on-hold", "ended": "completed"}

# Terminology systems: international where one fits, else Mestring's own, named under one prefix.
LOINC = "http://loinc.org"
PAIN_NRS_LOINC = "72514-3"  # Pain severity - 0-10 verbal numeric rating [Score] - Reported
OBSERVATION_CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/observation-category"
CONSENT_SCOPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/consentscope"
CONSENT_CATEGORY_LOINC = "59284-0"  # Patient Consent
ACT_CODE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
PARTICIPATION_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
ROLE_CODE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
MESTRING_SYSTEM = "urn:mestring:codesystem:"
OBSERVATION_CODE_SYSTEM = MESTRING_SYSTEM + "observation"  # goal-rating, training-session, borg-cr10, gas, copm-*
NETWORK_SCOPE_SYSTEM = MESTRING_SYSTEM + "network-scope"
DEVICE_CATEGORY_SYSTEM = MESTRING_SYSTEM + "device-category"
REQUEST_CATEGORY_SYSTEM = MESTRING_SYSTEM + "request-category"
EXERCISE_SYSTEM = MESTRING_SYSTEM + "exercise"
DEVICE_SERIAL_SYSTEM = "urn:mestring:device-serial"
SESSION_IDENTIFIER_SYSTEM = "urn:mestring:session-log"
QUESTIONNAIRE_URL = "urn:mestring:questionnaire:"
PLAN_DEFINITION_URL = "urn:mestring:programme-template:"

COMMUNICATION_STATUS = {
    CitizenRequest.Status.OPEN: "in-progress",
    CitizenRequest.Status.IN_PROGRESS: "in-progress",
    CitizenRequest.Status.ANSWERED: "completed",
    CitizenRequest.Status.CLOSED: "completed",
}
NETWORK_SCOPES = ("can_view_progress", "can_receive_reminders", "can_log_sessions", "can_send_encouragement")


def _url(identifier: UUID) -> str:
    return f"urn:uuid:{identifier}"


def _care_plan_id(episode: Episode) -> UUID:
    """The care plan is the episode seen as a plan; its id is derived from the episode's, stable across exports."""
    return uuid5(NAMESPACE_URL, f"mestring:care-plan:{episode.pk}")


def _fsiii_condition(goal: Goal) -> dict[str, Any]:
    return {
        "coding": [{"system": FSIII_CODE_SYSTEM, "code": str(goal.condition_code), "display": goal.condition_display}],
        "text": goal.condition_display,
    }


def _patient(citizen: Citizen, *, include_cpr: bool) -> dict[str, Any]:
    address = {
        key: value
        for key, value in (("line", [citizen.address_line]), ("postalCode", citizen.postcode), ("city", citizen.city))
        if value and value != [""]
    }
    patient: dict[str, Any] = {
        "resourceType": "Patient",
        "id": str(citizen.pk),
        "name": [{"family": citizen.family_name, "given": [citizen.given_name]}],
        "communication": [{"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": citizen.language}]}}],
    }
    if include_cpr:
        patient["identifier"] = [{"system": CPR_SYSTEM, "value": cpr.decrypt(citizen.cpr_ciphertext).digits}]
    if address:
        patient["address"] = [address]
    if citizen.deceased_on:
        patient["deceasedDateTime"] = citizen.deceased_on.isoformat()
    return patient


def _episode_of_care(episode: Episode, patient: str) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "EpisodeOfCare",
        "id": str(episode.pk),
        "status": EPISODE_OF_CARE_STATUS[Episode.Status(episode.status)],
        "type": [{"text": episode.get_kind_display()}],
        "patient": {"reference": patient},
        "managingOrganization": {"display": episode.team.name},
        "period": {"start": episode.start_date.isoformat()},
    }
    if episode.ended_on:
        resource["period"]["end"] = episode.ended_on.isoformat()
    contact = next(
        (c for c in episode.contacts.all() if c.role == EpisodeContact.Role.CONTACT_PERSON and c.ended_at is None),
        None,
    )
    if contact is not None:
        resource["careManager"] = {"display": contact.staff.user.display_name}
    return resource


def _dosage_text(exercise: PlanExercise) -> str:
    parts = []
    if exercise.sets:
        parts.append(f"{exercise.sets} sæt")
    if exercise.repetitions:
        parts.append(f"{exercise.repetitions} gentagelser")
    if exercise.hold_seconds:
        parts.append(f"hold {exercise.hold_seconds} s")
    return ", ".join(parts)


def _plan_activity(plan: TrainingPlan, sessions: list[SessionLog]) -> dict[str, Any]:
    """The training plan as one activity: its goals, its schedule, the template it came from and the
    sessions logged (as Observations)."""
    detail: dict[str, Any] = {
        "kind": "ServiceRequest",
        "status": TRAINING_PLAN_ACTIVITY_STATUS[plan.status],
        "description": plan.title,
    }
    goals = plan.goals.all()
    if goals:
        detail["goal"] = [{"reference": _url(goal.pk)} for goal in goals]
    if plan.template_id is not None:
        detail["instantiatesCanonical"] = [f"{PLAN_DEFINITION_URL}{plan.template_id}"]
    version = plan.current_version
    if version is not None:
        detail["scheduledString"] = version.recurrence_rule
    activity: dict[str, Any] = {"detail": detail}
    if sessions:
        activity["outcomeReference"] = [{"reference": _url(session.pk)} for session in sessions]
    return activity


def _exercise_activity(plan: TrainingPlan, exercise: PlanExercise) -> dict[str, Any]:
    """One exercise of the plan's version in force, with its dosage and the citizen's own instructions."""
    detail: dict[str, Any] = {
        "kind": "ServiceRequest",
        "status": TRAINING_PLAN_ACTIVITY_STATUS[plan.status],
        "code": {
            "coding": [
                {
                    "system": EXERCISE_SYSTEM,
                    "code": exercise.exercise.slug or str(exercise.exercise_id),
                    "display": exercise.exercise.title_da,
                }
            ],
            "text": exercise.exercise.title_da,
        },
        "description": "; ".join(part for part in (_dosage_text(exercise), exercise.instructions) if part)
        or exercise.exercise.title_da,
    }
    return {"detail": detail}


def _care_plan(episode: Episode, patient: str, sessions_by_plan: dict[Any, list[SessionLog]]) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "CarePlan",
        "id": str(_care_plan_id(episode)),
        "status": CARE_PLAN_STATUS[Episode.Status(episode.status)],
        "intent": "plan",
        "title": episode.title or episode.get_kind_display(),
        "subject": {"reference": patient},
        "period": {"start": episode.start_date.isoformat(), "end": episode.planned_end_date.isoformat()},
        "supportingInfo": [{"reference": _url(episode.pk)}],
    }
    goals = [{"reference": _url(goal.pk)} for goal in episode.goals.all()]
    if goals:
        resource["goal"] = goals
    activities = []
    for plan in episode.training_plans.all():
        activities.append(_plan_activity(plan, sessions_by_plan.get(plan.pk, [])))
        version = plan.current_version
        for exercise in version.exercises.all() if version is not None else ():
            activities.append(_exercise_activity(plan, exercise))
    if activities:
        resource["activity"] = activities
    return resource


def _goal(goal: Goal, patient: str) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Goal",
        "id": str(goal.pk),
        "lifecycleStatus": goal.lifecycle_status,
        "achievementStatus": {
            "coding": [
                {
                    "system": GOAL_ACHIEVEMENT_SYSTEM,
                    "code": goal.achievement_status,
                    "display": str(Goal.AchievementStatus(goal.achievement_status).label),
                }
            ]
        },
        "category": [{"text": goal.get_area_display()}],
        "description": {"text": goal.description},
        "subject": {"reference": patient},
        "startDate": goal.episode.start_date.isoformat(),
        "target": [
            {
                "measure": _fsiii_condition(goal),
                "detailInteger": goal.target_level,
                "dueDate": goal.due_date.isoformat(),
            },
            {
                "measure": {
                    "coding": [
                        {"system": OBSERVATION_CODE_SYSTEM, "code": "gas", "display": "Goal Attainment Scaling"}
                    ],
                    "text": "GAS: forventet niveau (0)",
                },
                "detailInteger": 0,
                "dueDate": goal.due_date.isoformat(),
            },
        ],
        "note": [
            {"text": f"GAS {score}: {text}"}
            for score, text in (
                ("-2", goal.gas_minus_2),
                ("-1", goal.gas_minus_1),
                ("0", goal.gas_0),
                ("+1", goal.gas_plus_1),
                ("+2", goal.gas_plus_2),
            )
        ],
    }
    if goal.expressed_by == Goal.ExpressedBy.CITIZEN:
        resource["expressedBy"] = {"reference": patient}
    else:
        resource["expressedBy"] = {"display": goal.get_expressed_by_display()}
    return resource


def _code(code: str, text: str, system: str = OBSERVATION_CODE_SYSTEM) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code, "display": text}], "text": text}


def _observation(rating: GoalRating, goal: Goal, patient: str) -> dict[str, Any]:
    components = []
    if rating.gas_score is not None:
        components.append({"code": _code("gas", "GAS (Goal Attainment Scaling)"), "valueInteger": rating.gas_score})
    if rating.function_level is not None:
        components.append({"code": _fsiii_condition(goal), "valueInteger": rating.function_level})
    if rating.copm_performance is not None:
        components.append(
            {"code": _code("copm-performance", "COPM udførelse"), "valueInteger": rating.copm_performance}
        )
    if rating.copm_satisfaction is not None:
        components.append(
            {"code": _code("copm-satisfaction", "COPM tilfredshed"), "valueInteger": rating.copm_satisfaction}
        )
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": str(rating.pk),
        "status": "final",
        "code": _code("goal-rating", "Vurdering af mål (GAS, FSIII, COPM)"),
        "subject": {"reference": patient},
        "focus": [{"reference": _url(goal.pk)}],
        "effectiveDateTime": rating.rated_on.isoformat(),
        "performer": [{"display": f"{rating.rated_by_name} ({rating.get_rater_role_display()})"}],
    }
    if components:
        resource["component"] = components
    if rating.note:
        resource["note"] = [{"text": rating.note}]
    return resource


def _session(session: SessionLog, patient: str) -> dict[str, Any]:
    """A logged training session: pain before and after (NRS 0–10, LOINC) and effort (Borg CR10)."""
    components = []
    for value, text in ((session.pain_before, "Smerte før træning"), (session.pain_after, "Smerte efter træning")):
        if value is not None:
            components.append(
                {
                    "code": {
                        "coding": [{"system": LOINC, "code": PAIN_NRS_LOINC, "display": "Pain severity 0-10"}],
                        "text": text,
                    },
                    "valueInteger": value,
                }
            )
    if session.effort is not None:
        components.append({"code": _code("borg-cr10", "Anstrengelse (Borg CR10)"), "valueInteger": session.effort})
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": str(session.pk),
        "identifier": [{"system": SESSION_IDENTIFIER_SYSTEM, "value": str(session.pk)}],
        "status": "final",
        "category": [{"coding": [{"system": OBSERVATION_CATEGORY_SYSTEM, "code": "activity"}]}],
        "code": _code("training-session", "Træningssession"),
        "subject": {"reference": patient},
        "effectiveDateTime": session.performed_at.isoformat(),
        "performer": [{"display": f"{session.logged_by_name} ({session.get_logged_by_role_display()})"}],
    }
    if components:
        resource["component"] = components
    if session.note:
        resource["note"] = [{"text": session.note}]
    return resource


def _plan_definition(template: ProgrammeTemplate) -> dict[str, Any]:
    return {
        "resourceType": "PlanDefinition",
        "id": str(template.pk),
        "url": f"{PLAN_DEFINITION_URL}{template.pk}",
        "title": template.title,
        "status": "active" if template.is_active else "retired",
        **({"description": template.description} if template.description else {}),
        "action": [
            {
                "title": item.exercise.title_da,
                "code": [
                    {
                        "coding": [
                            {
                                "system": EXERCISE_SYSTEM,
                                "code": item.exercise.slug or str(item.exercise_id),
                                "display": item.exercise.title_da,
                            }
                        ]
                    }
                ],
                **({"description": item.instructions} if item.instructions else {}),
            }
            for item in template.items.all()
        ]
        or [{"title": template.title}],
    }


def _answer_value(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"valueBoolean": value}
    if isinstance(value, int):
        return {"valueInteger": value}
    if isinstance(value, float):
        return {"valueDecimal": value}
    return {"valueString": str(value)}


def _questionnaire_response(response: QuestionnaireResponse, patient: str) -> dict[str, Any]:
    version = response.version
    resource: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": str(response.pk),
        "questionnaire": f"{QUESTIONNAIRE_URL}{version.questionnaire.key}|{version.number}",
        "status": "completed",
        "subject": {"reference": patient},
        "authored": response.submitted_at.isoformat(),
        "item": [
            {"linkId": answer["link_id"], "answer": [_answer_value(answer["value"])]}
            for answer in response.answers
            if answer.get("value") is not None
        ],
    }
    if response.assignment.episode_id:
        care_plan = uuid5(NAMESPACE_URL, f"mestring:care-plan:{response.assignment.episode_id}")
        resource["basedOn"] = [{"reference": _url(care_plan)}]
    if not resource["item"]:
        del resource["item"]
    return resource


def _device(assignment: Assignment) -> dict[str, Any]:
    device = assignment.device
    model = device.model
    return {
        "resourceType": "Device",
        "id": str(device.pk),
        "identifier": [{"system": DEVICE_SERIAL_SYSTEM, "value": device.serial_number}],
        "status": "active" if assignment.returned_at is None else "inactive",
        "manufacturer": model.manufacturer,
        "modelNumber": model.model_number,
        "deviceName": [{"name": model.name or model.model_number, "type": "model-name"}],
        "type": {
            "coding": [{"system": DEVICE_CATEGORY_SYSTEM, "code": model.category_id, "display": model.category.name}],
            "text": model.category.name,
        },
        **({"version": [{"value": device.firmware_version}]} if device.firmware_version else {}),
    }


def _device_use(assignment: Assignment, patient: str, goal_ids: set[Any]) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "DeviceUseStatement",
        "id": str(assignment.pk),
        "status": "completed" if assignment.returned_at else ("active" if assignment.installed_at else "intended"),
        "subject": {"reference": patient},
        "device": {"reference": _url(assignment.device_id)},
        "recordedOn": assignment.created_at.isoformat(),
    }
    if assignment.installed_at:
        period = {"start": assignment.installed_at.isoformat()}
        if assignment.returned_at:
            period["end"] = assignment.returned_at.isoformat()
        resource["timingPeriod"] = period
    if assignment.goal_id is not None and assignment.goal_id in goal_ids:
        resource["reasonReference"] = [{"reference": _url(assignment.goal_id)}]
    if assignment.installation_address:
        resource["note"] = [{"text": f"Installeret: {assignment.installation_address}"}]
    return resource


def _consent_base(identifier: Any, patient: str, status: str, at: Any) -> dict[str, Any]:
    return {
        "resourceType": "Consent",
        "id": str(identifier),
        "status": status,
        "scope": {"coding": [{"system": CONSENT_SCOPE_SYSTEM, "code": "patient-privacy"}]},
        "category": [{"coding": [{"system": LOINC, "code": CONSENT_CATEGORY_LOINC, "display": "Patient Consent"}]}],
        "patient": {"reference": patient},
        "dateTime": at.isoformat(),
    }


def _grant_consent(grant: NetworkGrant, patient: str, now: Any) -> dict[str, Any]:
    """A relative's or volunteer's grant: who, which scopes, until when; inactive once revoked or expired."""
    in_force = grant_in_force(grant, Moments(now=now))
    resource = _consent_base(grant.pk, patient, "active" if in_force else "inactive", grant.created_at)
    resource["policyRule"] = {"coding": [{"system": ACT_CODE_SYSTEM, "code": "OPTIN"}]}
    period: dict[str, Any] = {"start": grant.created_at.isoformat()}
    end = grant.revoked_at or grant.valid_until
    if end is not None:
        period["end"] = end.isoformat()
    resource["provision"] = {
        "type": "permit",
        "period": period,
        "actor": [
            {
                "role": {
                    "coding": [
                        {"system": ROLE_CODE_SYSTEM, "code": "FAMMEMB" if grant.relative.kind == "relative" else "FRND"}
                    ]
                },
                "reference": {"display": grant.label or grant.relative.user.display_name},
            }
        ],
        "action": [
            {"coding": [{"system": NETWORK_SCOPE_SYSTEM, "code": scope}]}
            for scope in NETWORK_SCOPES
            if getattr(grant, scope)
        ]
        or [{"coding": [{"system": NETWORK_SCOPE_SYSTEM, "code": "none"}]}],
    }
    return resource


def _device_consent(assignment: Assignment, patient: str) -> dict[str, Any]:
    """The consent (or the legal basis) a device assignment was made on."""
    status = "active" if assignment.returned_at is None else "inactive"
    resource = _consent_base(
        f"{uuid5(NAMESPACE_URL, f'mestring:device-consent:{assignment.pk}')}",
        patient,
        status,
        assignment.consent_recorded_at or assignment.created_at,
    )
    if assignment.consent_basis == ConsentBasis.CONSENT:
        resource["policyRule"] = {"coding": [{"system": ACT_CODE_SYSTEM, "code": "OPTIN"}], "text": "Samtykke"}
    else:
        resource["policyRule"] = {"text": f"Lovhjemmel: {assignment.consent_reference}".strip()}
    provision: dict[str, Any] = {
        "type": "permit",
        "data": [{"meaning": "related", "reference": {"reference": _url(assignment.pk)}}],
    }
    if assignment.consent_review_on:
        provision["period"] = {"end": assignment.consent_review_on.isoformat()}
    resource["provision"] = provision
    if assignment.consent_reference:
        resource["sourceReference"] = {"display": assignment.consent_reference}
    return resource


def _communications(request: CitizenRequest, patient: str) -> list[dict[str, Any]]:
    """A request as a Communication from the citizen to the team, each message of its thread answering it."""
    first = {
        "resourceType": "Communication",
        "id": str(request.pk),
        "status": COMMUNICATION_STATUS[CitizenRequest.Status(request.status)],
        "category": [
            {
                "coding": [
                    {
                        "system": REQUEST_CATEGORY_SYSTEM,
                        "code": request.category,
                        "display": request.get_category_display(),
                    }
                ]
            }
        ],
        "subject": {"reference": patient},
        "sent": request.created_at.isoformat(),
        "recipient": [{"display": request.team.name}],
        "payload": [{"contentString": request.text}],
    }
    if request.created_by_role == "citizen":
        first["sender"] = {"reference": patient}
    if request.episode_id:
        first["about"] = [{"reference": _url(request.episode_id)}]
    resources = [first]
    for message in request.messages.all():
        resources.append(
            {
                "resourceType": "Communication",
                "id": str(message.pk),
                "status": "completed",
                "subject": {"reference": patient},
                "inResponseTo": [{"reference": _url(request.pk)}],
                "sent": message.created_at.isoformat(),
                "sender": {"reference": patient}
                if message.author_role == "citizen"
                else {"display": message.author_name},
                "payload": [{"contentString": message.text}],
            }
        )
    return resources


def citizen_resources(citizen: Citizen, *, include_cpr: bool) -> list[dict[str, Any]]:
    """The citizen's Patient and everything of their record the bundle holds, in a fixed number of queries."""
    episodes = list(
        Episode.objects.filter(citizen=citizen)
        .select_related("team")
        .prefetch_related(
            Prefetch("contacts", queryset=EpisodeContact.objects.select_related("staff__user")),
            Prefetch("goals", queryset=Goal.objects.prefetch_related("ratings").order_by("rank", "created_at")),
            Prefetch(
                "training_plans",
                queryset=TrainingPlan.objects.select_related("current_version").prefetch_related(
                    "goals",
                    Prefetch(
                        "current_version__exercises",
                        queryset=PlanExercise.objects.select_related("exercise").order_by("position"),
                    ),
                ),
            ),
        )
        .order_by("start_date", "created_at")
    )
    sessions = list(SessionLog.objects.filter(citizen=citizen).order_by("performed_at", "id"))
    sessions_by_plan: dict[Any, list[SessionLog]] = {}
    for session in sessions:
        sessions_by_plan.setdefault(session.plan_id, []).append(session)
    template_ids = {
        plan.template_id for episode in episodes for plan in episode.training_plans.all() if plan.template_id
    }
    templates = (
        ProgrammeTemplate.objects.filter(pk__in=template_ids).prefetch_related("items__exercise").order_by("title")
        if template_ids
        else []
    )
    responses = (
        QuestionnaireResponse.objects.filter(assignment__citizen=citizen)
        .select_related("version__questionnaire", "assignment")
        .order_by("submitted_at", "id")
    )
    assignments = list(
        Assignment.objects.filter(citizen=citizen)
        .select_related("device__model__category")
        .order_by("created_at", "id")
    )
    grants = NetworkGrant.objects.filter(citizen=citizen).select_related("relative__user").order_by("created_at")
    requests = (
        CitizenRequest.objects.filter(citizen=citizen)
        .select_related("team")
        .prefetch_related("messages")
        .order_by("created_at", "id")
    )

    patient = _url(citizen.pk)
    now = timezone.now()
    resources = [_patient(citizen, include_cpr=include_cpr)]
    resources.extend(_plan_definition(template) for template in templates)
    goal_ids = set()
    for episode in episodes:
        resources.append(_episode_of_care(episode, patient))
        resources.append(_care_plan(episode, patient, sessions_by_plan))
        for goal in episode.goals.all():
            goal_ids.add(goal.pk)
            goal.episode = episode
            resources.append(_goal(goal, patient))
            resources.extend(
                _observation(rating, goal, patient)
                for rating in sorted(goal.ratings.all(), key=lambda rating: (rating.rated_on, rating.created_at))
            )
    resources.extend(_session(session, patient) for session in sessions)
    resources.extend(_questionnaire_response(response, patient) for response in responses)
    devices_seen = set()
    for assignment in assignments:
        if assignment.device_id not in devices_seen:
            devices_seen.add(assignment.device_id)
            resources.append(_device(assignment))
        resources.append(_device_use(assignment, patient, goal_ids))
        if assignment.consent_basis:
            resources.append(_device_consent(assignment, patient))
    resources.extend(_grant_consent(grant, patient, now) for grant in grants)
    for request in requests:
        resources.extend(_communications(request, patient))
    return resources


def cpr_entitled(actor: Actor, citizen: Citizen) -> bool:
    """Whether the caller may receive the CPR number: the citizen themself, or care staff (who reach the
    export only through the access functions, for a citizen their team cares for). No one else."""
    if actor.citizen is not None:
        return actor.citizen.pk == citizen.pk
    return actor.staff is not None and bool(actor.roles & CARE)


def citizen_bundle(actor: Actor, citizen: Citizen) -> dict[str, Any]:
    """The bundle of ``citizen_resources``, logged as an export of the citizen's data before it is returned."""
    resources = citizen_resources(citizen, include_cpr=cpr_entitled(actor, citizen))
    access_log_record(
        actor=actor,
        citizens=[citizen],
        resource_type=EXPORT_RESOURCE_TYPE,
        action=AccessLogEntry.Action.EXPORT,
        resource_id=str(citizen.pk),
    )
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": timezone.now().isoformat(),
        "entry": [{"fullUrl": _url(UUID(resource["id"])), "resource": resource} for resource in resources],
    }


@export_format("fhir", CONTENT_TYPE)
def own_fhir_export(actor: Actor) -> dict[str, Any]:
    """``GET /me/export?format=fhir``: the citizen's own record as a FHIR Bundle."""
    assert actor.citizen is not None
    return citizen_bundle(actor, actor.citizen)


# --- Indicator values as a MeasureReport ---------------------------------------------------------

MEASURE_POPULATION_SYSTEM = "http://terminology.hl7.org/CodeSystem/measure-population"
MEASURE_URL = "urn:mestring:measure:"


def _population(cell: Cell) -> dict[str, Any]:
    population: dict[str, Any] = {
        "code": {"coding": [{"system": MEASURE_POPULATION_SYSTEM, "code": "initial-population"}]}
    }
    if not cell.suppressed:
        population["count"] = cell.citizens or 0
    return population


def _score(cell: Cell, measure_key: str | None) -> dict[str, Any]:
    """The measure's value, or the citizen count for a measure-less indicator; nothing when suppressed."""
    if cell.suppressed:
        return {}
    value = (cell.values or {}).get(measure_key) if measure_key else cell.share
    return {} if value is None else {"measureScore": {"value": value}}


def _stratum(name: str, cell: Cell, measure_key: str | None) -> dict[str, Any]:
    return {"value": {"text": name}, "population": [_population(cell)], **_score(cell, measure_key)}


def indicator_measure_report(result: "IndicatorResult", municipality_name: str) -> dict[str, Any]:
    """An indicator's values as a FHIR R4 ``MeasureReport`` (summary): a group per measure (for a
    distribution, one with the groups' shares), stratified by the indicator's groups and by the cells of
    the breakdown. Suppressed cells and strata carry neither count nor score."""
    indicator, total = result.indicator, result.total
    measure_keys: list[str | None] = [measure.key for measure in indicator.measures] or [None]
    groups = []
    for measure_key in measure_keys:
        stratifiers = []
        if indicator.grouped:
            stratifiers.append(
                {
                    "code": [{"text": "group"}],
                    "stratum": [
                        _stratum(pick(*group.group_name) if group.group_name else str(group.group), group, measure_key)
                        for group in total.groups
                    ],
                }
            )
        if result.cells:
            stratifiers.append(
                {
                    "code": [{"text": result.query.breakdown}],
                    "stratum": [_stratum(cell.node.name, cell, measure_key) for cell in result.cells],
                }
            )
        group: dict[str, Any] = {
            "code": {"text": measure_key or "share"},
            "population": [_population(total)],
            **(_score(total, measure_key) if measure_key else {}),
        }
        if stratifiers:
            group["stratifier"] = stratifiers
        groups.append(group)
    return {
        "resourceType": "MeasureReport",
        "status": "complete",
        "type": "summary",
        "measure": f"{MEASURE_URL}{indicator.key}",
        "subject": {"display": total.node.name},
        "date": timezone.now().isoformat(),
        "reporter": {"display": municipality_name},
        "period": {"start": result.query.period.start.isoformat(), "end": result.query.period.end.isoformat()},
        "group": groups,
    }
