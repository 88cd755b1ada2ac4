"""The exercise library: a municipality's own exercises and their pictures, and the shipped starter library.

Exercises hold no personal data, so changing them writes no access-log rows. They are never deleted:
plans and logs keep referring to them, and a retired one (``is_active`` false) only drops out of search.
"""

import hashlib
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import Storage
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Count, Max
from django.utils import timezone

from backend.actors import Actor
from backend.concurrency import require_version, save_with_version
from backend.errors import Conflict, Forbidden, InvalidInput
from backend.images import image_renditions
from selvbetjening.exercise_library import LIBRARY
from selvbetjening.exercise_pictures import PICTURES, ExercisePicture
from selvbetjening.models import Exercise, ExerciseImage
from selvbetjening.selectors.exercises import staff_municipality_id

EDITABLE_FIELDS = (
    "title_da",
    "title_en",
    "instructions_da",
    "instructions_en",
    "body_area",
    "equipment",
    "difficulty",
    "video_url",
    "is_active",
)
# Longest side in pixels of each stored size of a picture; the names are those of ``selvbetjening.media``.
IMAGE_DIMENSIONS = {"large": 1600, "medium": 800, "thumbnail": 320}
IMAGE_FIELDS = {"large": "image", "medium": "medium", "thumbnail": "thumbnail"}
MAX_IMAGES_PER_EXERCISE = 10
_https_only = URLValidator(schemes=["https"])


def _video_url_checked(value: str) -> str:
    if not value:
        return ""
    try:
        _https_only(value)
    except ValidationError as exc:
        raise InvalidInput("video_url", "must be an https:// address.") from exc
    if urlsplit(value).username is not None:
        raise InvalidInput("video_url", "must not contain a user name or password.")
    return value


def _exercise_rules(exercise: Exercise) -> None:
    """The rules an exercise meets whatever changed; 422 naming the field that breaks one."""
    for name in ("title_da", "instructions_da"):
        if not getattr(exercise, name).strip():
            raise InvalidInput(name, "must not be empty.")
    exercise.video_url = _video_url_checked(exercise.video_url)


@transaction.atomic
def exercise_create(
    *,
    by: Actor,
    title_da: str,
    instructions_da: str,
    body_area: str,
    title_en: str = "",
    instructions_en: str = "",
    equipment: str = Exercise.Equipment.NONE,
    difficulty: int = Exercise.Difficulty.EASY,
    video_url: str = "",
) -> Exercise:
    """An exercise of the care staff member's own municipality."""
    municipality_id = staff_municipality_id(by)
    if municipality_id is None:
        raise Forbidden("Only care staff can add exercises.")
    exercise = Exercise(
        municipality_id=municipality_id,
        title_da=title_da,
        title_en=title_en,
        instructions_da=instructions_da,
        instructions_en=instructions_en,
        body_area=body_area,
        equipment=equipment,
        difficulty=difficulty,
        video_url=video_url,
        created_by=by.user,
    )
    _exercise_rules(exercise)
    exercise.save()
    return exercise


@transaction.atomic
def exercise_update(*, exercise: Exercise, by: Actor, version: int, changes: dict[str, Any]) -> Exercise:
    """Change a municipality's exercise if nobody else changed it since ``version`` was read (409
    otherwise). ``is_active`` false retires it; true brings it back."""
    if exercise.municipality_id is None:
        raise Forbidden("The shared exercise library cannot be changed.", code="shared_exercise_read_only")
    require_version(exercise, version)
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise InvalidInput(sorted(unknown)[0], "cannot be changed.")
    for name, value in changes.items():
        setattr(exercise, name, value)
    _exercise_rules(exercise)
    exercise.refresh_search_text()
    save_with_version(exercise, expected_version=version, update_fields=[*changes, "search_text"])
    return exercise


def _touch(exercise: Exercise) -> None:
    """A picture added or removed counts as a change of the exercise for apps syncing the library."""
    Exercise.objects.filter(pk=exercise.pk).update(updated_at=timezone.now())


def _delete_files(storage: Storage, names: list[str | None]) -> None:
    for name in names:
        if name:
            storage.delete(name)


def exercise_image_add(
    *, exercise: Exercise, by: Actor, data: bytes, alt_text_da: str = "", alt_text_en: str = ""
) -> ExerciseImage:
    """A picture of a municipality's exercise, checked by content, cleaned of metadata and stored in the
    sizes the app shows. The picture is decoded before any row is locked."""
    if exercise.municipality_id is None:
        raise Forbidden("The shared exercise library cannot be changed.", code="shared_exercise_read_only")
    renditions = image_renditions(data, field="image", sizes=IMAGE_DIMENSIONS)
    stored: list[str | None] = []
    image = ExerciseImage(exercise=exercise)
    try:
        with transaction.atomic():
            locked = Exercise.objects.select_for_update().get(pk=exercise.pk)
            positions = locked.images.aggregate(count=Count("id"), last=Max("position"))
            if positions["count"] >= MAX_IMAGES_PER_EXERCISE:
                raise Conflict(
                    f"An exercise can have at most {MAX_IMAGES_PER_EXERCISE} pictures.", code="too_many_images"
                )
            large = renditions["large"]
            image.exercise = locked
            image.position = 0 if positions["last"] is None else positions["last"] + 1
            image.alt_text_da = alt_text_da
            image.alt_text_en = alt_text_en
            image.width = large.width
            image.height = large.height
            for size, field_name in IMAGE_FIELDS.items():
                file_field = getattr(image, field_name)
                file_field.save(f"{image.pk}-{size}.jpg", ContentFile(renditions[size].content), save=False)
                stored.append(file_field.name)
            image.save()
            _touch(locked)
    except BaseException:
        _delete_files(image.image.storage, stored)
        raise
    return image


@transaction.atomic
def exercise_image_delete(*, exercise: Exercise, by: Actor, image: ExerciseImage) -> None:
    """Remove a picture from a municipality's exercise; its files go once the change is committed."""
    if exercise.municipality_id is None:
        raise Forbidden("The shared exercise library cannot be changed.", code="shared_exercise_read_only")
    storage = image.image.storage
    names = [image.image.name, image.medium.name, image.thumbnail.name]
    image.delete()
    _touch(exercise)
    transaction.on_commit(partial(_delete_files, storage, names))


@transaction.atomic
def exercise_library_load() -> int:
    """Create or refresh the shipped starter library by slug; returns how many exercises it created or
    changed (0 when the stored library already matches the shipped one)."""
    stored = {exercise.slug: exercise for exercise in Exercise.objects.filter(slug__in=[e.slug for e in LIBRARY])}
    changed = 0
    for entry in LIBRARY:
        fields = entry.fields()
        exercise = stored.get(entry.slug)
        if exercise is None:
            exercise = Exercise.objects.create(slug=entry.slug, municipality=None, **fields)
            _shipped_pictures_load(exercise)
            changed += 1
            continue
        differing = {name: value for name, value in fields.items() if getattr(exercise, name) != value}
        if exercise.municipality_id is not None:
            differing["municipality_id"] = None
        pictures_changed = _shipped_pictures_load(exercise)
        if not differing:
            changed += pictures_changed
            continue
        for name, value in differing.items():
            setattr(exercise, name, value)
        exercise.version += 1
        exercise.save(update_fields=[*differing, "version", "updated_at"])
        changed += 1
    return changed


SHIPPED_PREFIX = "shipped-"


def _shipped_picture_stem(position: str, picture: ExercisePicture) -> str:
    """The start of a shipped picture's file names: which position, and a digest of the drawing and
    its words, so a changed drawing is stored anew and an unchanged one is left alone."""
    digest = hashlib.sha256()
    for text in (picture.svg(position, IMAGE_DIMENSIONS["large"]), picture.start_en, picture.end_en):
        digest.update(text.encode())
    return f"{SHIPPED_PREFIX}{position}-{digest.hexdigest()[:16]}"


def _file_stem(name: str | None) -> str:
    return (name or "").rsplit("/", 1)[-1].rsplit("-", 1)[0]


def _shipped_pictures_load(exercise: Exercise) -> int:
    """Store the shipped drawings of the start and end position (``exercise_pictures``) as the
    exercise's first two pictures, in every size the library serves. 1 when anything was stored."""
    picture = PICTURES.get(exercise.slug)
    if picture is None:
        return 0
    stems = {position: _shipped_picture_stem(position, picture) for position in ("start", "end")}
    existing = [image for image in exercise.images.all() if _file_stem(image.image.name).startswith(SHIPPED_PREFIX)]
    if sorted(_file_stem(image.image.name) for image in existing) == sorted(stems.values()):
        return 0
    storage = ExerciseImage._meta.get_field("image").storage
    for image in existing:
        names = [image.image.name, image.medium.name, image.thumbnail.name]
        image.delete()
        transaction.on_commit(partial(_delete_files, storage, names))
    large = IMAGE_DIMENSIONS["large"]
    for index, position in enumerate(("start", "end")):
        image = ExerciseImage(
            exercise=exercise,
            position=index,
            alt_text_da=picture.start_da if position == "start" else picture.end_da,
            alt_text_en=picture.start_en if position == "start" else picture.end_en,
            width=large,
            height=round(large * 3 / 4),
        )
        for size, field_name in IMAGE_FIELDS.items():
            content = picture.svg(position, IMAGE_DIMENSIONS[size]).encode()
            getattr(image, field_name).save(f"{stems[position]}-{size}.svg", ContentFile(content), save=False)
        image.save()
    _touch(exercise)
    return 1
