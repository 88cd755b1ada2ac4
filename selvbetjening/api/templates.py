"""Programme templates for care staff of the municipality that made them."""

from typing import Any
from uuid import UUID

from ninja import Query, Router, Status

from backend.actors import CARE
from backend.auth import AuthedRequest, UserBearer
from backend.pagination import paginate
from selvbetjening.access import templates as template_access
from selvbetjening.presenters.exercises import template_out
from selvbetjening.schemas import exercises as schemas
from selvbetjening.selectors import templates as template_reads
from selvbetjening.services import templates as template_services

templates = Router(tags=["programme templates"], auth=UserBearer(roles=CARE))


def _template_response(request: AuthedRequest, template_id: UUID) -> dict[str, Any]:
    return template_out(template_access.access_template(request.auth, template_id))


@templates.get("", response=schemas.TemplatePageOut, summary="My municipality's programme templates")
def list_templates(request: AuthedRequest, query: Query[schemas.TemplateQuery]):
    queryset = template_reads.templates_search(
        template_reads.with_template_shape(template_reads.templates_visible_to(request.auth)),
        text=query.q,
        include_retired=query.include_retired,
    )
    items, next_cursor = paginate(queryset, cursor=query.cursor, limit=query.limit, order=("title", "id"))
    return {"items": [template_out(item) for item in items], "next_cursor": next_cursor}


@templates.post("", response={201: schemas.TemplateOut}, summary="Make a programme template")
def create_template(request: AuthedRequest, payload: schemas.TemplateIn):
    fields = payload.model_dump(exclude={"items"})
    items = [item.model_dump() for item in payload.items]
    template = template_services.template_create(by=request.auth, items=items, **fields)
    return Status(201, _template_response(request, template.pk))


@templates.get("/{uuid:template_id}", response=schemas.TemplateOut, summary="One programme template")
def get_template(request: AuthedRequest, template_id: UUID):
    return _template_response(request, template_id)


@templates.patch(
    "/{uuid:template_id}",
    response=schemas.TemplateOut,
    summary="Edit or retire a template; items, when sent, replace all (send the version you read; 409 if stale)",
)
def update_template(request: AuthedRequest, template_id: UUID, payload: schemas.TemplateUpdateIn):
    template = template_access.access_template(request.auth, template_id)
    template_services.template_update(
        template=template,
        by=request.auth,
        version=payload.version,
        changes=payload.changes(),
        items=payload.item_fields(),
    )
    return _template_response(request, template_id)


ROUTERS: list[tuple[str, Router]] = [("/programme-templates", templates)]
