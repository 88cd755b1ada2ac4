"""The shipped exercises' drawings: a start and an end position for each, with words, in every size."""

import xml.etree.ElementTree as ET

import pytest

from selvbetjening.exercise_library import LIBRARY
from selvbetjening.exercise_pictures import PICTURES
from selvbetjening.models import Exercise, ExerciseImage
from selvbetjening.services.exercises import IMAGE_DIMENSIONS, exercise_library_load

SVG = "{http://www.w3.org/2000/svg}"


def test_every_shipped_exercise_has_a_drawing_and_every_drawing_an_exercise():
    assert set(PICTURES) == {entry.slug for entry in LIBRARY}


def test_the_drawings_differ_from_exercise_to_exercise_and_from_start_to_end():
    drawings = [picture.svg(position, 320) for picture in PICTURES.values() for position in ("start", "end")]
    assert len(set(drawings)) == 2 * len(PICTURES)
    # Not only the words differ: the shapes do (the title is the only text besides the number badge).
    shapes = [drawing.split("</title>", 1)[1] for drawing in drawings]
    assert len(set(shapes)) == 2 * len(PICTURES)


@pytest.mark.parametrize("slug", sorted(PICTURES))
def test_each_drawing_is_plain_svg_with_its_words(slug):
    picture = PICTURES[slug]
    for position, words in (("start", picture.start_da), ("end", picture.end_da)):
        root = ET.fromstring(picture.svg(position, 800))  # noqa: S314 (the platform's own drawing)
        assert root.tag == f"{SVG}svg" and root.get("width") == "800" and root.get("height") == "600"
        assert root.find(f"{SVG}title").text == words
        tags = {element.tag.removeprefix(SVG) for element in root.iter()}
        assert tags <= {"svg", "title", "rect", "circle", "ellipse", "polyline", "text"}
        assert not any(name.startswith("on") or "href" in name for element in root.iter() for name in element.attrib)
    assert picture.start_da.startswith("Start:") and picture.end_da.startswith("Slut:")
    assert picture.start_en.startswith("Start:") and picture.end_en.startswith("End:")


@pytest.mark.django_db
def test_the_library_load_stores_two_drawings_per_exercise_in_every_size_once(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    exercise_library_load()
    shipped = Exercise.objects.filter(slug__in=list(PICTURES)).prefetch_related("images")
    assert shipped.count() == len(PICTURES)
    for exercise in shipped:
        start, end = exercise.images.all()
        assert (start.position, end.position) == (0, 1)
        picture = PICTURES[exercise.slug]
        assert start.alt_text_da == picture.start_da and end.alt_text_en == picture.end_en
        assert start.image.read() != end.image.read()
    assert exercise_library_load() == 0
    assert ExerciseImage.objects.count() == 2 * len(PICTURES)
    assert len(list((tmp_path / "exercises").rglob("*.svg"))) == 2 * 3 * len(PICTURES)


@pytest.mark.django_db
def test_a_changed_drawing_replaces_the_stored_one(settings, tmp_path, monkeypatch):
    from dataclasses import replace

    settings.MEDIA_ROOT = tmp_path
    exercise_library_load()
    before = set(ExerciseImage.objects.filter(exercise__slug="heel-raises").values_list("id", flat=True))
    changed = replace(PICTURES["heel-raises"], end_da="Slut: står på tæerne.")
    monkeypatch.setitem(PICTURES, "heel-raises", changed)
    assert exercise_library_load() == 1
    after = ExerciseImage.objects.filter(exercise__slug="heel-raises")
    assert after.count() == 2 and not before & {image.id for image in after}
    assert after.get(position=1).alt_text_da == "Slut: står på tæerne."


@pytest.mark.django_db
def test_the_drawings_are_served_as_svg_in_the_library_sizes_with_their_words(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    exercise_library_load()
    exercise = Exercise.objects.get(slug="sit-to-stand")
    picture = PICTURES["sit-to-stand"]
    staff = world.client("staff_in_team")
    images = staff.get(f"/api/v1/exercises/{exercise.pk}").json()["images"]
    assert [image["alt_text"] for image in images] == [picture.start_da, picture.end_da]
    english = staff.get(f"/api/v1/exercises/{exercise.pk}", headers={"Accept-Language": "en"}).json()["images"]
    assert [image["alt_text"] for image in english] == [picture.start_en, picture.end_en]
    served_bytes = set()
    for image in images:
        for size, dimension in IMAGE_DIMENSIONS.items():
            served = world.client("citizen").get(image["urls"][size])
            assert served.status_code == 200
            assert served["Content-Type"] == "image/svg+xml"
            assert served["Content-Security-Policy"] == "default-src 'none'"
            root = ET.fromstring(served.content)  # noqa: S314 (the platform's own drawing)
            assert root.tag == f"{SVG}svg" and int(root.get("width")) == dimension
            served_bytes.add(served.content)
    assert len(served_bytes) == 6
