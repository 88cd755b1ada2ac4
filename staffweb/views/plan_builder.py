"""Building a training plan with the citizen, from a template or from scratch, and changing it later (a new
version): exercises found in the library by words, body area and equipment, with their pictures; their
dosage and progression rule; weekdays and times with a preview of the next training times, and how long
after its time a training may still be done, before anything is saved."""

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.actors import CARE, Actor
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
from staffweb.plan_forms import LibrarySearchForm, PlanForm, base_entries, initial_schedule
from staffweb.selectors import plan_exercises, plan_library_page, plan_templates
from staffweb.views.base import StaffRequest, page, shown, staff_page

TEMPLATE = "staffweb/plan_build.html"
# What is shown again without checking the form: the library searched, an exercise added or removed.
REDISPLAY = frozenset({"add", "remove", "search"})


def _action(request: StaffRequest) -> str:
    if request.method != "POST":
        return ""
    if "add_exercise" in request.POST:
        return "add"
    if "remove_exercise" in request.POST:
        return "remove"
    return request.POST.get("action", "save")


def _chosen_ids(request: StaffRequest, action: str, start: Iterable[Any]) -> list[str]:
    """The exercises the plan is built from: those the page lists, with the one added or without the one
    removed; ``start`` on a page not sent yet (and when a template is taken)."""
    if request.method != "POST" or action == "template":
        return [str(value) for value in start]
    ids = request.POST.getlist("exercise")
    if action == "add":
        ids.append(request.POST["add_exercise"])
    elif action == "remove":
        ids = [value for value in ids if value != request.POST["remove_exercise"]]
    return ids


def _library_search(request: StaffRequest) -> LibrarySearchForm:
    data = request.POST if request.method == "POST" else request.GET
    return LibrarySearchForm(data if any(name.startswith("library-") for name in data) else None)


def _library_context(request: StaffRequest, in_plan: Iterable[Any]) -> dict[str, Any]:
    """The library search as the page asked for it, one page of what it finds, and which are in the plan."""
    search = _library_search(request)
    library = plan_library_page(request.actor, **search.query())
    return {
        "search": search,
        "library": library,
        "in_plan": {str(value) for value in in_plan},
        "paged": bool(search.is_bound and search.cleaned_data.get("goto")),
    }


def _is_library_partial(request: StaffRequest) -> bool:
    """Whether the page asks for the library's results alone (htmx searching or paging)."""
    asks = request.method == "GET" and request.htmx  # type: ignore[attr-defined]
    return bool(asks and any(name.startswith("library-") for name in request.GET))


def _reads(request: StaffRequest, reads: str) -> str | None:
    """What the page's access function logs: nothing for the library's results alone (no citizen data)."""
    return None if _is_library_partial(request) else shown(request, reads)


def _library_partial(request: StaffRequest) -> HttpResponse | None:
    """The library's results alone, for htmx searching or paging (no citizen data: no access-log row)."""
    if not _is_library_partial(request):
        return None
    context = _library_context(request, request.GET.getlist("exercise"))
    return page(request, f"{TEMPLATE}#library", context)


def _render(request: StaffRequest, action: str, context: dict[str, Any], *, status: int) -> HttpResponse:
    form: PlanForm = context["form"]
    context.update(_library_context(request, form.chosen_ids()))
    if action == "add":
        form.focus_on(request.POST["add_exercise"])
    context["removed"] = action == "remove"
    partial = request.htmx and action in REDISPLAY  # type: ignore[attr-defined]
    return page(request, f"{TEMPLATE}#exercises" if partial else TEMPLATE, context, status=status)


@staff_page(CARE)
def plan_new(request: StaffRequest, episode_id: UUID) -> HttpResponse:
    """Make a plan as ``POST /api/v1/training-plans`` does; only the episode's team may."""
    actor = request.actor
    episode = episode_access.access_episode_for_change(actor, episode_id, reads=_reads(request, "episode"))
    plan_access.require_episode_team(actor, episode.team_id)
    if (partial := _library_partial(request)) is not None:
        return partial
    goals = list(episode.goals.exclude(lifecycle_status=Goal.LifecycleStatus.CANCELLED).order_by("rank", "id"))
    templates = plan_templates(actor)
    by_id = {str(template.pk): template for template in templates}
    action = _action(request)
    template = by_id.get(request.POST.get("template_id", "")) if request.method == "POST" else None
    base = base_entries(list(template.items.all())) if template is not None else {}
    chosen = plan_exercises(actor, _chosen_ids(request, action, base), already_in_plan=base)
    time_zone = episode.citizen.time_zone
    kwargs: dict[str, Any] = {
        "creating": True,
        "goals": goals,
        "templates": templates,
        "time_zone": time_zone,
        "chosen": chosen,
        "base": base,
    }
    start = max(municipal_today(), episode.start_date)
    initial: dict[str, Any] = {"start_date": start, "end_date": episode.planned_end_date}
    status, preview = 200, None
    if action == "template":
        # Start from the template: its exercises with their dosage and rules, its usual schedule.
        initial.update(title=request.POST.get("title") or (template.title if template else ""))
        initial.update(goal_ids=request.POST.getlist("goal_ids"), template_id=request.POST.get("template_id", ""))
        if template is not None:
            initial.update(initial_schedule(template))
        form = PlanForm(initial=initial, **kwargs)
    else:
        form = PlanForm(request.POST or None, initial=initial, **kwargs)
    if action in REDISPLAY:
        form.show_unchecked()
    elif action in ("save", "preview"):
        status = 422
        if form.is_valid():
            if action == "preview":
                status, preview = 200, form.preview(now=timezone.now())
            else:
                try:
                    plan = plan_services.training_plan_create(
                        episode=episode,
                        by=actor,
                        title=form.cleaned_data["title"],
                        goal_ids=[UUID(value) for value in form.cleaned_data["goal_ids"]],
                        template_id=template.pk if template is not None else None,
                        recurrence_rule=form.recurrence_rule(),
                        start_time=form.start_time(),
                        start_date=form.cleaned_data["start_date"],
                        end_date=form.cleaned_data["end_date"],
                        grace_minutes=form.cleaned_data["grace_minutes"],
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
    if request.method == "POST":
        # Shown again (a refused plan, a preview, the exercises changed): the access function logs the citizen.
        episode = episode_access.access_episode_for_change(actor, episode_id, reads="episode")
    context = {"episode": episode, "citizen": episode.citizen, "form": form, "preview": preview, "nav": "triage"}
    return _render(request, action, context, status=status)


def _revise_form(plan: TrainingPlan, actor: Actor, request: StaffRequest | None, action: str = "") -> PlanForm:
    version = plan.current_version
    assert version is not None
    base = base_entries(list(version.exercises.all()))
    initial = {
        "version": plan.version,
        "start_date": version.start_date,
        "end_date": version.end_date,
        "grace_minutes": version.grace_minutes,
        **initial_schedule(version),
    }
    ids = _chosen_ids(request, action, base) if request is not None else [str(value) for value in base]
    return PlanForm(
        (request.POST or None) if request is not None else None,
        initial=initial,
        creating=False,
        chosen=plan_exercises(actor, ids, already_in_plan=base),
        base=base,
        time_zone=version.time_zone,
    )


@staff_page(CARE)
def plan_revise(request: StaffRequest, plan_id: UUID) -> HttpResponse:
    """A new version of the plan as ``POST /api/v1/training-plans/{id}/versions`` does; a lost race says so
    and shows the version now in force."""
    actor = request.actor
    plan = plan_access.access_training_plan_for_change(actor, plan_id, reads=_reads(request, plan_services.RESOURCE))
    if (partial := _library_partial(request)) is not None:
        return partial
    action = _action(request)
    form = _revise_form(plan, actor, request, action)
    status, preview, conflict = 200, None, ""
    if action in REDISPLAY:
        form.show_unchecked()
    elif action in ("save", "preview"):
        status = 422
        if form.is_valid():
            if action == "preview":
                status, preview = 200, form.preview(now=timezone.now())
            else:
                try:
                    plan_services.training_plan_revise(
                        plan=plan,
                        by=actor,
                        version=form.cleaned_data["version"],
                        recurrence_rule=form.recurrence_rule(),
                        start_time=form.start_time(),
                        start_date=form.cleaned_data["start_date"],
                        end_date=form.cleaned_data["end_date"],
                        grace_minutes=form.cleaned_data["grace_minutes"],
                        exercises=form.exercises(),
                        change_note=form.cleaned_data["change_note"],
                    )
                except StaleVersion as error:
                    # Someone else changed the plan: say so, and show the version now in force.
                    plan = plan_access.access_training_plan_for_change(actor, plan_id, reads=plan_services.RESOURCE)
                    form = _revise_form(plan, actor, None)
                    conflict, status = problems.message(error), 409
                except ApplicationError as error:
                    add_error(form, error, form.service_fields())
                    status = 409 if error.status == 409 else 422
                else:
                    messages.success(request, _("Planen er gemt som en ny version."))
                    return HttpResponseRedirect(reverse("staffweb:citizen", args=[plan.citizen_id]) + "#plans-heading")
    if request.method == "POST" and not conflict:
        # Shown again (a refused version, a preview, the exercises changed): the access function logs the citizen.
        plan = plan_access.access_training_plan_for_change(actor, plan_id, reads=plan_services.RESOURCE)
    context = {
        "plan": plan,
        "citizen": plan.citizen,
        "form": form,
        "preview": preview,
        "conflict": conflict,
        "nav": "triage",
    }
    return _render(request, action, context, status=status)


@staff_page(CARE)
def exercise_image(request: StaffRequest, image_id: UUID, size: str) -> HttpResponse:
    """An exercise picture for the plan pages, as ``GET /api/v1/exercise-images/{id}/{size}`` serves it."""
    return get_image(request, image_id, size)  # type: ignore[arg-type]
