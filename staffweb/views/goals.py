"""Goals set with the citizen in their own words, and rating a goal at follow-up: GAS on the goal's own
outcomes, FSIII, COPM."""

import uuid
from uuid import UUID

from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from backend.actors import CARE
from backend.errors import ApplicationError
from backend.timeutil import municipal_today
from selvbetjening.access import episodes as episode_access
from selvbetjening.services import goals as goal_services
from staffweb.forms import GoalForm, GoalRatingForm, add_error
from staffweb.views.base import StaffRequest, page, shown, staff_page


@staff_page(CARE)
def goal_rating(request: StaffRequest, goal_id: UUID) -> HttpResponse:
    goal = episode_access.access_goal_for_change(request.actor, goal_id, reads=shown(request, "goal"))
    initial = {"rating_id": uuid.uuid4(), "rated_on": municipal_today()}
    form = GoalRatingForm(request.POST or None, goal=goal, initial=initial)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            fields = {name: value for name, value in form.cleaned_data.items() if name != "rating_id"}
            try:
                goal_services.goal_rate(goal=goal, by=request.actor, rating_id=form.cleaned_data["rating_id"], **fields)
            except ApplicationError as error:
                add_error(form, error, form.service_fields())
            else:
                messages.success(request, _("Vurderingen er gemt."))
                return HttpResponseRedirect(
                    reverse("staffweb:citizen", args=[goal.episode.citizen_id]) + "#goals-heading"
                )
        # Shown again after a refused rating: the access function logs the one citizen shown.
        goal = episode_access.access_goal_for_change(request.actor, goal_id, reads="goal")
    return page(request, "staffweb/goal_rating.html", {"goal": goal, "form": form, "nav": "triage"}, status=status)


@staff_page(CARE)
def goal_new(request: StaffRequest, episode_id: UUID) -> HttpResponse:
    """Write a goal as ``POST /api/v1/episodes/{id}/goals`` does; only the episode's team may."""
    episode = episode_access.access_episode_for_change(request.actor, episode_id, reads=shown(request, "episode"))
    initial = {"rank": episode.goals.count() + 1, "due_date": episode.planned_end_date}
    form = GoalForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                goal_services.goal_create(episode=episode, by=request.actor, **form.goal_fields())
            except ApplicationError as error:
                add_error(form, error, form.service_fields())
                status = 409 if error.status == 409 else 422
            else:
                messages.success(request, _("Målet er gemt."))
                return HttpResponseRedirect(reverse("staffweb:citizen", args=[episode.citizen_id]) + "#goals-heading")
        # Shown again after a refused goal: the access function logs the one citizen shown.
        episode = episode_access.access_episode_for_change(request.actor, episode_id, reads="episode")
    return page(request, "staffweb/goal_new.html", {"episode": episode, "form": form, "nav": "triage"}, status=status)
