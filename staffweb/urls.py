from django.urls import include, path
from django.views.i18n import set_language

from staffweb import urls_effekt, urls_it
from staffweb.views import auth, citizen, episodes, goals, plan_builder, plans, requests, team, triage, work

app_name = "staffweb"

urlpatterns = [
    path("", triage.triage, name="triage"),
    path("log-ind/", auth.login, name="login"),
    path("log-ud/", auth.logout, name="logout"),
    path("log-ud-alle/", auth.logout_everywhere, name="logout-everywhere"),
    path("sprog/", set_language, name="language"),
    path("borgere/<uuid:citizen_id>/", citizen.citizen, name="citizen"),
    path("borgere/<uuid:citizen_id>/nyt-forloeb/", episodes.episode_new, name="episode-new"),
    path("forloeb/<uuid:episode_id>/nyt-maal/", goals.goal_new, name="goal-new"),
    path("planer/<uuid:plan_id>/dosering/", plans.plan_dosage, name="plan-dosage"),
    path("forloeb/<uuid:episode_id>/ny-plan/", plan_builder.plan_new, name="plan-new"),
    path("planer/<uuid:plan_id>/ny-version/", plan_builder.plan_revise, name="plan-revise"),
    path("forloeb/<uuid:episode_id>/status/", episodes.episode_status, name="episode-status"),
    path("oevelsesbilleder/<uuid:image_id>/<str:size>/", plan_builder.exercise_image, name="exercise-image"),
    path("planer/<uuid:plan_id>/status/", plans.plan_status, name="plan-status"),
    path("maal/<uuid:goal_id>/vurdering/", goals.goal_rating, name="goal-rating"),
    path("forloeb/<uuid:episode_id>/tovholder/", episodes.contacts, name="episode-contacts"),
    path("henvendelser/", requests.inbox, name="inbox"),
    path("henvendelser/<uuid:request_id>/", requests.request_detail, name="request"),
    path("henvendelser/<uuid:request_id>/luk/", requests.request_close, name="request-close"),
    path("henvendelser/<uuid:request_id>/foto/", requests.request_photo, name="request-photo"),
    path("team/", team.team, name="team"),
    path("opgaver/", work.work, name="work"),
    path("opgaver/traeningsalarmer/<uuid:alert_id>/set/", work.training_alert_acknowledge, name="training-alert-ack"),
    path(
        "opgaver/traeningsalarmer/<uuid:alert_id>/afslut/", work.training_alert_resolve, name="training-alert-resolve"
    ),
    path(
        "opgaver/enhedsalarmer/<uuid:alert_id>/set/",
        work.device_alert_change,
        {"action": "acknowledge"},
        name="device-alert-ack",
    ),
    path(
        "opgaver/enhedsalarmer/<uuid:alert_id>/afslut/",
        work.device_alert_change,
        {"action": "resolve"},
        name="device-alert-resolve",
    ),
    path("opgaver/vagt/<uuid:team_id>/", work.duty, name="duty"),
    path("it/", include((urls_it.urlpatterns, "it"))),
    path("effekt/", include((urls_effekt.urlpatterns, "effekt"))),
]
