from datetime import datetime

from django.utils import timezone
from ninja import Router, Schema
from pydantic import UUID4

from velfaerdsteknologi.credentials import DeviceBearer, DeviceRequest

router = Router(tags=["device"], auth=DeviceBearer())


class DeviceSelfOut(Schema):
    id: UUID4
    serial_number: str
    server_time: datetime


@router.get("/me", response=DeviceSelfOut, summary="The calling device, and the server's clock")
def device_me(request: DeviceRequest):
    device = request.auth.device
    return {"id": device.pk, "serial_number": device.serial_number, "server_time": timezone.now()}


ROUTERS = [("/device", router)]
