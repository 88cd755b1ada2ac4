"""Starting an episode with a citizen; the episode's contact person: hand over to a colleague, or name a
stand-in while away."""

from uuid import UUID

from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from backend.access import access_citizen, access_citizen_for_change
from backend.actors import CARE
from backend.concurrency import StaleVersion
from backend.errors import ApplicationError
from backend.selectors import team_directory
from selvbetjening.access import episodes as episode_access
from selvbetjening.models import Episode
from selvbetjening.selectors import episodes as episode_reads
from selvbetjening.services import episodes as episode_services
from staffweb import problems
from staffweb.forms import ContactForm, EpisodeForm, EpisodeStatusForm, add_error
from staffweb.selectors import care_colleagues
from staffweb.views.base import StaffRequest, page, shown, staff_page

FIELDS = {"staff_id": "staff_id", "until": "until", "reason": "reason"}


@staff_page(CARE)
def episode_new(request: StaffRequest, citizen_id: UUID) -> HttpResponse:
    """Start an episode as ``POST /api/v1/episodes`` does: a planned episode with its contact person."""
    if request.method == "POST":
        citizen = access_citizen_for_change(request.actor, citizen_id)
    else:
        citizen = access_citizen(request.actor, citizen_id, reads="episode")
    teams = list({membership.team_id: membership.team for membership in request.actor.care_memberships()}.values())
    directories = {team.pk: team_directory(team) for team in teams}
    form = EpisodeForm(request.POST or None, citizen_id=citizen.pk, teams=teams, directories=directories)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                episode_services.episode_create(by=request.actor, citizen=citizen, **form.cleaned_data)
            except ApplicationError as error:
                add_error(form, error, form.service_fields())
            else:
                messages.success(request, _("Forløbet er oprettet."))
                return HttpResponseRedirect(reverse("staffweb:citizen", args=[citizen.pk]) + "#episodes-heading")
        # Shown again after a refused start: the access function logs the one citizen the page names.
        citizen = access_citizen(request.actor, citizen_id, reads="episode")
    context = {"citizen": citizen, "form": form, "nav": "triage"}
    return page(request, "staffweb/episode_new.html", context, status=status)


@staff_page(CARE)
def contacts(request: StaffRequest, episode_id: UUID) -> HttpResponse:
    episode = episode_access.access_episode_for_change(request.actor, episode_id, reads=shown(request, "episode"))
    colleagues = care_colleagues(episode.team)
    action = request.POST.get("action") if request.method == "POST" else None
    handover = ContactForm(
        request.POST if action == "handover" else None, colleagues=colleagues, with_until=False, prefix="handover"
    )
    stand_in = ContactForm(
        request.POST if action == "stand_in" else None, colleagues=colleagues, with_until=True, prefix="stand_in"
    )
    status = 200
    form = handover if action == "handover" else stand_in if action == "stand_in" else None
    if form is not None:
        status = 422
        if form.is_valid():
            try:
                if form is handover:
                    episode_services.episode_contact_person_hand_over(
                        episode=episode, by=request.actor, **form.cleaned_data
                    )
                    done = _("Forløbet har fået ny tovholder.")
                else:
                    episode_services.episode_stand_in_set(episode=episode, by=request.actor, **form.cleaned_data)
                    done = _("Stedfortræderen er navngivet.")
            except ApplicationError as error:
                add_error(form, error, FIELDS)
                status = 409 if error.status == 409 else 422
            else:
                messages.success(request, done)
                return HttpResponseRedirect(reverse("staffweb:citizen", args=[episode.citizen_id]))
    if request.method == "POST":
        # Shown again after a refused change: the access function logs the one citizen shown.
        episode = episode_access.access_episode_for_change(request.actor, episode_id, reads="episode")
    contact_person, stand_in_now = episode_reads.current_contacts(episode)
    context = {
        "episode": episode,
        "contact_person": contact_person,
        "stand_in": stand_in_now,
        "handover": handover,
        "stand_in_form": stand_in,
        "nav": "triage",
    }
    return page(request, "staffweb/contacts.html", context, status=status)


STATUS_DONE = {
    Episode.Status.ACTIVE: _("Forløbet er i gang."),
    Episode.Status.ON_HOLD: _("Forløbet er sat i bero."),
    Episode.Status.COMPLETED: _("Forløbet er afsluttet med opfølgningsresultatet."),
    Episode.Status.CANCELLED: _("Forløbet er annulleret."),
}


@staff_page(CARE)
def episode_status(request: StaffRequest, episode_id: UUID) -> HttpResponse:
    """Start, pause, resume, complete with its follow-up result (E1–E4) or cancel the episode; a stale page
    says so and shows the episode as it is now."""
    episode = episode_access.access_episode_for_change(request.actor, episode_id, reads=shown(request, "episode"))
    results = episode_reads.follow_up_results()
    allowed = episode_services.TRANSITIONS[episode.status]
    form = EpisodeStatusForm(
        request.POST or None, allowed=allowed, results=results, initial={"version": episode.version}
    )
    status, conflict = 200, ""
    if request.method == "POST":
        status = 422
        if form.is_valid():
            to_status = form.cleaned_data["status"]
            try:
                episode_services.episode_transition(
                    episode=episode,
                    by=request.actor,
                    version=form.cleaned_data["version"],
                    to_status=to_status,
                    follow_up_result=form.cleaned_data["follow_up_result"] or None,
                    note=form.cleaned_data["note"],
                )
            except StaleVersion as error:
                episode = episode_access.access_episode_for_change(request.actor, episode_id, reads="episode")
                allowed = episode_services.TRANSITIONS[episode.status]
                form = EpisodeStatusForm(allowed=allowed, results=results, initial={"version": episode.version})
                conflict, status = problems.message(error), 409
            except ApplicationError as error:
                add_error(form, error, form.service_fields())
                status = 409 if error.status == 409 else 422
            else:
                messages.success(request, STATUS_DONE[to_status])
                citizen_page = reverse("staffweb:citizen", args=[episode.citizen_id])
                return HttpResponseRedirect(citizen_page + "#episodes-heading")
    if request.method == "POST" and not conflict:
        # Shown again after a refused change: the access function logs the one citizen shown.
        episode = episode_access.access_episode_for_change(request.actor, episode_id, reads="episode")
    context = {"episode": episode, "form": form, "conflict": conflict, "nav": "triage"}
    return page(request, "staffweb/episode_status.html", context, status=status)
