"""IT's pages under /staff/it/: the device register, a device's page, assigning and servicing devices, the health
board, the work lists, the catalogue and CSV import and export. Only IT staff open them (others get 404, as in the
API); they call the same access functions, selectors and services as the API's IT operations."""

from django.utils.translation import gettext_lazy as _

from backend.actors import IT

IT_NAVIGATION = (
    ("it-board", _("Driftsoverblik"), "staffweb:it:board", IT),
    ("it-devices", _("Enheder"), "staffweb:it:devices", IT),
    ("it-maintenance", _("Vedligehold"), "staffweb:it:maintenance", IT),
    ("it-returns", _("Returneringer"), "staffweb:it:returns", IT),
    ("it-catalogue", _("Katalog"), "staffweb:it:catalogue", IT),
    ("it-import", _("Import og eksport"), "staffweb:it:import", IT),
)
