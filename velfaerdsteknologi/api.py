from datetime import datetime

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema
from pydantic import UUID4

from velfaerdsteknologi.credentials import DeviceBearer, DevicePrincipal

router = Router(tags=["device"], auth=DeviceBearer())


class DeviceSelfOut(Schema):
    id: UUID4
    serial_number: str
    server_time: datetime


@router.get("/me", response=DeviceSelfOut, summary="The calling device, and the server's clock")
def device_me(request: HttpRequest):  # type: ignore[no-untyped-def]
    principal: DevicePrincipal = request.auth  # type: ignore[assignment]
    return {"id": principal.device.pk, "serial_number": principal.device.serial_number, "server_time": timezone.now()}
