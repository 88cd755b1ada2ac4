"""The Effekt pages (team leaders and analysts), under /staff/effekt/."""

from django.urls import path

from staffweb.views import effekt

urlpatterns = [
    path("", effekt.overview, name="overview"),
    path("indikatorer/<slug:key>/", effekt.indicator, name="indicator"),
    path("indikatorer/<slug:key>/csv/", effekt.indicator_csv_download, name="csv"),
    path("indikatorer/<slug:key>/measurereport/", effekt.indicator_measure_report, name="measure-report"),
    path("forandringsteorier/<uuid:theory_id>/", effekt.theory, name="theory"),
]
