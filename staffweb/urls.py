from django.urls import include, path

from staffweb import urls_it
from staffweb.views import auth, citizen, plans, requests, team, triage

app_name = "staffweb"

urlpatterns = [
    path("", triage.triage, name="triage"),
    path("log-ind/", auth.login, name="login"),
    path("log-ud/", auth.logout, name="logout"),
    path("log-ud-alle/", auth.logout_everywhere, name="logout-everywhere"),
    path("borgere/<uuid:citizen_id>/", citizen.citizen, name="citizen"),
    path("planer/<uuid:plan_id>/dosering/", plans.plan_dosage, name="plan-dosage"),
    path("henvendelser/", requests.inbox, name="inbox"),
    path("henvendelser/<uuid:request_id>/", requests.request_detail, name="request"),
    path("henvendelser/<uuid:request_id>/luk/", requests.request_close, name="request-close"),
    path("henvendelser/<uuid:request_id>/foto/", requests.request_photo, name="request-photo"),
    path("team/", team.team, name="team"),
    path("it/", include((urls_it.urlpatterns, "it"))),
]
