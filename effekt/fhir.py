"""FHIR R4 for exchange with the national infrastructure: one citizen's goals, ratings and episodes as a
``Bundle`` (DOMAIN.md: Patient, EpisodeOfCare, CarePlan, Goal, Observation), and an indicator's values as
a ``MeasureReport``.

Every resource in the bundle is addressed by a ``urn:uuid:`` full URL and referenced by it. The export is
written to the citizen's access log as an export before it leaves.
"""

from typing import TYPE_CHECKING, Any
from uuid import NAMESPACE_URL, UUID, uuid5

from django.db.models import Prefetch
from django.utils import timezone

from backend import cpr
from backend.actors import Actor
from backend.audit import access_log_record
from backend.models import AccessLogEntry, Citizen
from effekt.indicators.evaluator import Cell
from selvbetjening.models import Episode, EpisodeContact, Goal, GoalRating
from selvbetjening.models.goals import FSIII_CODE_SYSTEM
from selvbetjening.texts import pick

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


def _patient(citizen: Citizen) -> dict[str, Any]:
    address = {
        key: value
        for key, value in (("line", [citizen.address_line]), ("postalCode", citizen.postcode), ("city", citizen.city))
        if value and value != [""]
    }
    patient: dict[str, Any] = {
        "resourceType": "Patient",
        "id": str(citizen.pk),
        "identifier": [{"system": CPR_SYSTEM, "value": cpr.decrypt(citizen.cpr_ciphertext).digits}],
        "name": [{"family": citizen.family_name, "given": [citizen.given_name]}],
        "communication": [{"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": citizen.language}]}}],
    }
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


def _care_plan(episode: Episode, patient: str) -> dict[str, Any]:
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
    activities = [
        {
            "detail": {
                "kind": "ServiceRequest",
                "status": TRAINING_PLAN_ACTIVITY_STATUS[plan.status],
                "description": plan.title,
                **({"goal": [{"reference": _url(goal.pk)} for goal in plan.goals.all()]} if plan.goals.all() else {}),
            }
        }
        for plan in episode.training_plans.all()
    ]
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
                    "display": Goal.AchievementStatus(goal.achievement_status).label,
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
            }
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


def _observation(rating: GoalRating, goal: Goal, patient: str) -> dict[str, Any]:
    components = []
    if rating.gas_score is not None:
        components.append({"code": {"text": "GAS (Goal Attainment Scaling)"}, "valueInteger": rating.gas_score})
    if rating.function_level is not None:
        components.append({"code": _fsiii_condition(goal), "valueInteger": rating.function_level})
    if rating.copm_performance is not None:
        components.append({"code": {"text": "COPM udførelse"}, "valueInteger": rating.copm_performance})
    if rating.copm_satisfaction is not None:
        components.append({"code": {"text": "COPM tilfredshed"}, "valueInteger": rating.copm_satisfaction})
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": str(rating.pk),
        "status": "final",
        "code": {"text": "Vurdering af mål (GAS, FSIII, COPM)"},
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


def citizen_resources(citizen: Citizen) -> list[dict[str, Any]]:
    """The citizen's Patient, and per episode its EpisodeOfCare, CarePlan, Goals and their Observations."""
    episodes = (
        Episode.objects.filter(citizen=citizen)
        .select_related("team")
        .prefetch_related(
            Prefetch("contacts", queryset=EpisodeContact.objects.select_related("staff__user")),
            Prefetch("goals", queryset=Goal.objects.prefetch_related("ratings").order_by("rank", "created_at")),
            "training_plans__goals",
        )
        .order_by("start_date", "created_at")
    )
    patient = _url(citizen.pk)
    resources = [_patient(citizen)]
    for episode in episodes:
        resources.append(_episode_of_care(episode, patient))
        resources.append(_care_plan(episode, patient))
        for goal in episode.goals.all():
            goal.episode = episode
            resources.append(_goal(goal, patient))
            resources.extend(
                _observation(rating, goal, patient)
                for rating in sorted(goal.ratings.all(), key=lambda rating: (rating.rated_on, rating.created_at))
            )
    return resources


def citizen_bundle(actor: Actor, citizen: Citizen) -> dict[str, Any]:
    """The bundle of ``citizen_resources``, logged as an export of the citizen's data before it is returned."""
    resources = citizen_resources(citizen)
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
