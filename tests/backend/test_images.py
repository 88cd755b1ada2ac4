"""backend/images.py: one picture in several sizes, upright, without metadata."""

import io

import pytest
from PIL import Image

from backend.errors import InvalidInput
from backend.images import image_renditions

SIZES = {"large": 1600, "medium": 800, "thumbnail": 320}


def _jpeg(size: tuple[int, int], exif: Image.Exif | None = None) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(buffer, format="JPEG", **({"exif": exif} if exif else {}))
    return buffer.getvalue()


def test_each_size_is_bounded_by_its_longest_side_and_keeps_the_proportions():
    renditions = image_renditions(_jpeg((1000, 4000)), field="image", sizes=SIZES)
    assert list(renditions) == ["large", "medium", "thumbnail"]
    assert [(r.width, r.height) for r in renditions.values()] == [(400, 1600), (200, 800), (80, 320)]
    for rendition in renditions.values():
        with Image.open(io.BytesIO(rendition.content)) as picture:
            assert picture.size == (rendition.width, rendition.height) and picture.format == "JPEG"


def test_a_phone_picture_taken_sideways_is_stored_upright_without_its_orientation_tag():
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to view
    renditions = image_renditions(_jpeg((600, 400), exif), field="image", sizes=SIZES)
    large = renditions["large"]
    assert (large.width, large.height) == (400, 600)
    with Image.open(io.BytesIO(large.content)) as picture:
        assert 0x0112 not in picture.getexif()


def test_a_bad_picture_names_the_field():
    with pytest.raises(InvalidInput) as raised:
        image_renditions(b"not a picture", field="image", sizes=SIZES)
    assert raised.value.field == "image"
