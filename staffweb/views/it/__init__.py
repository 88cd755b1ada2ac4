"""IT's pages under /staff/it/: the device register, a device's page, assigning and servicing devices, the health
board, the work lists, the catalogue and CSV import and export. Only IT staff open them (others get 404, as in the
API); they call the same access functions, selectors and services as the API's IT operations."""

from backend.actors import IT

IT_NAVIGATION = (
    ("it-board", "Driftsoverblik", "staffweb:it:board", IT),
    ("it-devices", "Enheder", "staffweb:it:devices", IT),
    ("it-maintenance", "Vedligehold", "staffweb:it:maintenance", IT),
    ("it-returns", "Returneringer", "staffweb:it:returns", IT),
    ("it-catalogue", "Katalog", "staffweb:it:catalogue", IT),
    ("it-import", "Import og eksport", "staffweb:it:import", IT),
)
