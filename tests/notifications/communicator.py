"""The in-process websocket test client of ``/ws/v1/``, patient enough for a loaded machine.

Channels' ``WebsocketCommunicator`` gives up on a frame after one second by default; with the suites of
several checkouts running at once, a connect or an event that goes through the database can take longer,
and the test then failed by luck. What must arrive is waited for up to ``RECEIVE_TIMEOUT`` (a bound, not a
speed: it passes as soon as the frame is there); what must not arrive keeps ``receive_nothing``'s own short
wait, which can only let a late frame pass unnoticed, never fail a correct run.
"""

from typing import Any

from channels.testing import WebsocketCommunicator

RECEIVE_TIMEOUT = 15.0


class StreamCommunicator(WebsocketCommunicator):
    async def connect(self, timeout: float = RECEIVE_TIMEOUT) -> Any:
        return await super().connect(timeout)

    async def receive_output(self, timeout: float = RECEIVE_TIMEOUT) -> Any:
        return await super().receive_output(timeout)

    async def receive_from(self, timeout: float = RECEIVE_TIMEOUT) -> Any:
        return await super().receive_from(timeout)

    async def receive_json_from(self, timeout: float = RECEIVE_TIMEOUT) -> Any:
        return await super().receive_json_from(timeout)

    async def disconnect(self, code: int = 1000, timeout: float = RECEIVE_TIMEOUT) -> None:
        await super().disconnect(code, timeout)
