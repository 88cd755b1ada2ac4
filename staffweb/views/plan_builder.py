"""Building a training plan with the citizen, from a template or from scratch, and changing it later (a new
version): exercises from the library with their pictures, dosage, weekdays and times, and a preview of the
next training times before anything is saved."""

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.actors import CARE
from backend.audit import read_logged
from backend.concurrency import StaleVersion
from backend.errors import ApplicationError
from backend.timeutil import municipal_today
from selvbetjening.access import episodes as episode_access
from selvbetjening.access import plans as plan_access
from selvbetjening.api.exercises import get_image
from selvbetjening.models import Goal, TrainingPlan
from selvbetjening.services import plans as plan_services
from staffweb import problems
from staffweb.forms import add_error
from staffweb.plan_forms import PlanForm, base_entries, initial_schedule, preview_slots
from staffweb.selectors import plan_library, plan_templates
from staffweb.views.base import StaffRequest, page, staff_page

GRACE_MINUTES = 480


def _action(request: StaffRequest) -> str:
    return request.POST.get("action", "save") if request.method == "POST" else ""


@staff_page(CARE)
def plan_new(request: StaffRequest, episode_id: UUID) -> HttpResponse:
    """Make a plan as ``POST /api/v1/training-plans`` does; only the episode's team may."""
    actor = request.actor
    episode = episode_access.access_episode_for_change(actor, episode_id)
    plan_access.require_episode_team(actor, episode.team_id)
    goals = list(episode.goals.exclude(lifecycle_status=Goal.LifecycleStatus.CANCELLED).order_by("rank", "id"))
    templates = plan_templates(actor)
    by_id = {str(template.pk): template for template in templates}
    action = _action(request)
    template = by_id.get(request.POST.get("template_id", "")) if request.method == "POST" else None
    base = base_entries(list(template.items.all())) if template is not None else {}
    time_zone = episode.citizen.time_zone
    kwargs: dict[str, Any] = {"creating": True, "goals": goals, "templates": templates, "time_zone": time_zone}
    start = max(municipal_today(), episode.start_date)
    initial: dict[str, Any] = {"start_date": start, "end_date": episode.planned_end_date}
    status, preview = 200, None
    if action == "template":
        # Start from the template: its exercises with their dosage, its usual schedule.
        initial.update(title=request.POST.get("title") or (template.title if template else ""))
        initial.update(goal_ids=request.POST.getlist("goal_ids"), template_id=request.POST.get("template_id", ""))
        if template is not None:
            initial.update(initial_schedule(template))
        form = PlanForm(initial=initial, library=plan_library(actor, base), base=base, **kwargs)
    else:
        form = PlanForm(request.POST or None, initial=initial, library=plan_library(actor, base), base=base, **kwargs)
    if action in ("save", "preview"):
        status = 422
        if form.is_valid():
            if action == "preview":
                status, preview = 200, preview_slots(form.schedule(), now=timezone.now(), grace_minutes=GRACE_MINUTES)
            else:
                try:
                    plan = plan_services.training_plan_create(
                        episode=episode,
                        by=actor,
                        title=form.cleaned_data["title"],
                        goal_ids=[UUID(value) for value in form.cleaned_data["goal_ids"]],
                        template_id=template.pk if template is not None else None,
                        recurrence_rule=form.recurrence_rule(),
                        start_time=form.cleaned_data["times"][0],
                        start_date=form.cleaned_data["start_date"],
                        end_date=form.cleaned_data["end_date"],
                        grace_minutes=GRACE_MINUTES,
                        exercises=form.exercises(),
                    )
                except ApplicationError as error:
                    add_error(form, error, form.service_fields())
                    status = 409 if error.status == 409 else 422
                else:
                    messages.success(request, _("Træningsplanen „%(title)s“ er lavet.") % {"title": plan.title})
                    return HttpResponseRedirect(
                        reverse("staffweb:citizen", args=[episode.citizen_id]) + "#plans-heading"
                    )
    # The access log: one row for the citizen whose episode is shown.
    read_logged(actor, [episode.citizen], "episode", episode.pk)
    context = {"episode": episode, "citizen": episode.citizen, "form": form, "preview": preview, "nav": "triage"}
    return page(request, "staffweb/plan_build.html", context, status=status)


def _revise_form(plan: TrainingPlan, actor: Any, data: Any = None) -> PlanForm:
    version = plan.current_version
    assert version is not None
    base = base_entries(list(version.exercises.all()))
    initial = {
        "version": plan.version,
        "start_date": version.start_date,
        "end_date": version.end_date,
        **initial_schedule(version),
    }
    return PlanForm(
        data,
        initial=initial,
        creating=False,
        library=plan_library(actor, base),
        base=base,
        time_zone=version.time_zone,
    )


@staff_page(CARE)
def plan_revise(request: StaffRequest, plan_id: UUID) -> HttpResponse:
    """A new version of the plan as ``POST /api/v1/training-plans/{id}/versions`` does; a lost race says so
    and shows the version now in force."""
    actor = request.actor
    plan = plan_access.access_training_plan_for_change(actor, plan_id)
    action = _action(request)
    form = _revise_form(plan, actor, request.POST or None)
    status, preview, conflict = 200, None, ""
    if action in ("save", "preview"):
        status = 422
        if form.is_valid():
            if action == "preview":
                status, preview = 200, preview_slots(form.schedule(), now=timezone.now(), grace_minutes=GRACE_MINUTES)
            else:
                try:
                    plan_services.training_plan_revise(
                        plan=plan,
                        by=actor,
                        version=form.cleaned_data["version"],
                        recurrence_rule=form.recurrence_rule(),
                        start_time=form.cleaned_data["times"][0],
                        start_date=form.cleaned_data["start_date"],
                        end_date=form.cleaned_data["end_date"],
                        exercises=form.exercises(),
                        change_note=form.cleaned_data["change_note"],
                    )
                except StaleVersion as error:
                    # Someone else changed the plan: say so, and show the version now in force.
                    plan = plan_access.access_training_plan_for_change(actor, plan_id)
                    form = _revise_form(plan, actor)
                    conflict, status = problems.message(error), 409
                except ApplicationError as error:
                    add_error(form, error, form.service_fields())
                    status = 409 if error.status == 409 else 422
                else:
                    messages.success(request, _("Planen er gemt som en ny version."))
                    return HttpResponseRedirect(reverse("staffweb:citizen", args=[plan.citizen_id]) + "#plans-heading")
    # The access log: one row for the citizen whose plan is shown.
    read_logged(actor, [plan.citizen], plan_services.RESOURCE, plan.pk)
    context = {
        "plan": plan,
        "citizen": plan.citizen,
        "form": form,
        "preview": preview,
        "conflict": conflict,
        "nav": "triage",
    }
    return page(request, "staffweb/plan_build.html", context, status=status)


@staff_page(CARE)
def exercise_image(request: StaffRequest, image_id: UUID, size: str) -> HttpResponse:
    """An exercise picture for the plan pages, as ``GET /api/v1/exercise-images/{id}/{size}`` serves it."""
    return get_image(request, image_id, size)  # type: ignore[arg-type]
