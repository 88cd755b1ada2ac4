import io
from datetime import timedelta

from PIL import Image

from backend.timeutil import municipal_today


def goal_body(**overrides):
    body = {
        "description": "Jeg vil selv kunne gå ned efter avisen",
        "rank": 1,
        "area": "mobility",
        "condition_code": "6c3f2a55-5b87-4d55-9b6c-0b8b6fb2c5a1",
        "condition_display": "Gå",
        "baseline_level": 3,
        "target_level": 1,
        "baseline_gas": -1,
        "gas_minus_2": "Kommer ikke ud",
        "gas_minus_1": "Går til døren",
        "gas_0": "Går til postkassen med rollator",
        "gas_plus_1": "Går til postkassen uden rollator",
        "gas_plus_2": "Går rundt om blokken",
        "due_date": str(municipal_today() + timedelta(days=30)),
    }
    body.update(overrides)
    return body


def jpeg_bytes(size=(64, 48), color=(200, 30, 30), exif=None, image_format="JPEG"):
    buffer = io.BytesIO()
    image = Image.new("RGB", size, color)
    kwargs = {"exif": exif} if exif is not None else {}
    image.save(buffer, format=image_format, **kwargs)
    return buffer.getvalue()


def episode_body(world, **overrides):  # type: ignore[no-untyped-def]
    """A valid ``POST /episodes`` body for the world's citizen, team and therapist."""
    today = municipal_today()
    return {
        "citizen_id": str(world.citizen.pk),
        "team_id": str(world.team.pk),
        "kind": "everyday_rehabilitation",
        "start_date": str(today),
        "planned_end_date": str(today + timedelta(days=56)),
        "contact_person_id": str(world.staff_in_team.pk),
        **overrides,
    }
