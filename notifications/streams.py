"""The names and shapes of the live stream: its groups, its event types, the frame a client receives for a
stream event and the channel-layer message that carries it to the websocket processes."""

from typing import Any

from notifications.models import StreamEvent

NOTIFICATION_EVENT = "notification"
TEAM_EVENT = "team_event"
# The channel-layer message type of a stream event.
STREAM_EVENT = "stream.event"


def user_group(user_id: Any) -> str:
    return f"user.{user_id}"


def team_group(team_id: Any) -> str:
    return f"team.{team_id}"


def group_of(event: StreamEvent) -> str:
    return team_group(event.team_id) if event.team_id is not None else user_group(event.user_id)


def stream_frame(event: StreamEvent) -> dict[str, Any]:
    """What a client receives for a stream event: its id, its type and ids, never text."""
    if event.team_id is not None:
        return {
            "type": TEAM_EVENT,
            "event_id": event.id,
            "team_id": str(event.team_id),
            "kind": event.type,
            "refs": event.payload,
        }
    return {"type": event.type, "event_id": event.id, **event.payload}


def stream_message(event: StreamEvent) -> dict[str, Any]:
    """The channel-layer message that carries a stream event to the consumers of its group."""
    return {
        "type": STREAM_EVENT,
        "event_id": event.id,
        "team_id": str(event.team_id) if event.team_id is not None else None,
        "payload": stream_frame(event),
    }
