"""IT's pages, included under /staff/it/ in the ``staffweb:it`` namespace."""

from django.urls import path

from staffweb.views.it import alerts, assignments, board, catalogue, devices, transfer, work

urlpatterns = [
    path("", board.board, name="board"),
    path("enheder/", devices.register, name="devices"),
    path("enheder/ny/", devices.device_new, name="device-new"),
    path("enheder/<uuid:device_id>/", devices.device_detail, name="device"),
    path("enheder/<uuid:device_id>/ret/", devices.device_change, name="device-change"),
    path("enheder/<uuid:device_id>/status/", devices.device_transition, name="device-transition"),
    path("enheder/<uuid:device_id>/noegle/", devices.device_credential, name="device-credential"),
    path("enheder/<uuid:device_id>/tildel/", assignments.assign, name="device-assign"),
    path("tildelinger/<uuid:assignment_id>/samtykke/", assignments.consent, name="assignment-consent"),
    path("tildelinger/<uuid:assignment_id>/installer/", assignments.install, name="assignment-install"),
    path("tildelinger/<uuid:assignment_id>/returner/", assignments.give_back, name="assignment-return"),
    path("alarmer/<uuid:alert_id>/kvitter/", alerts.acknowledge, name="alert-acknowledge"),
    path("alarmer/<uuid:alert_id>/loes/", alerts.resolve, name="alert-resolve"),
    path("vedligehold/", work.maintenance, name="maintenance"),
    path("vedligehold/<uuid:task_id>/udfoer/", work.maintenance_complete, name="maintenance-complete"),
    path("returneringer/", work.returns, name="returns"),
    path("katalog/", catalogue.catalogue, name="catalogue"),
    path("katalog/ny/", catalogue.model_new, name="model-new"),
    path("katalog/<uuid:model_id>/", catalogue.model_detail, name="model"),
    path("katalog/<uuid:model_id>/ret/", catalogue.model_change, name="model-change"),
    path("katalog/<uuid:model_id>/regler/<slug:kind>/", catalogue.model_rule, name="model-rule"),
    path("import/", transfer.device_import, name="import"),
    path("import/modeller/", transfer.model_import, name="import-models"),
    path("import/tildelinger/", transfer.assignment_import, name="import-assignments"),
    path("eksport/", transfer.device_export, name="export"),
    path("eksport/modeller/", transfer.model_export, name="export-models"),
    path("eksport/tildelinger/", transfer.assignment_export, name="export-assignments"),
]
