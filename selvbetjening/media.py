"""Where the app fetches exercise pictures: one URL per image and size, the same for every reader."""

from uuid import UUID

IMAGE_SIZES = ("thumbnail", "medium", "large")


def exercise_image_url(image_id: UUID, size: str) -> str:
    """The API path of one size of an exercise picture (see ``selvbetjening.api.exercises``)."""
    return f"/api/v1/exercise-images/{image_id}/{size}"
