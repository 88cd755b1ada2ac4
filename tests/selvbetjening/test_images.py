"""backend/images.py: images are checked by content, cleaned of metadata and bounded."""

import io

import pytest
from PIL import Image

from backend.errors import InvalidInput
from backend.images import image_process
from tests.selvbetjening.helpers import jpeg_bytes


def test_photo_is_reencoded_without_metadata_and_gets_a_thumbnail():
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # Make
    exif[0x8825] = {1: "N", 2: (55.0, 40.0, 0.0)}  # GPS
    processed = image_process(jpeg_bytes(size=(3000, 1000), exif=exif), field="photo")
    with Image.open(io.BytesIO(processed.content)) as image:
        assert image.format == "JPEG"
        assert image.size == (2048, 683)
        assert not image.getexif()
    with Image.open(io.BytesIO(processed.thumbnail)) as thumbnail:
        assert max(thumbnail.size) == 320


def test_png_with_transparency_is_accepted_as_jpeg():
    buffer = io.BytesIO()
    Image.new("RGBA", (20, 20), (0, 0, 0, 0)).save(buffer, format="PNG")
    processed = image_process(buffer.getvalue(), field="photo")
    assert processed.content.startswith(b"\xff\xd8")


@pytest.mark.parametrize(
    "data",
    [b"", b"%PDF-1.4 not an image", jpeg_bytes()[:40], jpeg_bytes(image_format="GIF")],
    ids=["empty", "pdf", "truncated", "gif"],
)
def test_what_is_not_an_accepted_image_is_422(data):
    with pytest.raises(InvalidInput) as raised:
        image_process(data, field="photo")
    assert raised.value.field == "photo"


def test_decompression_bomb_is_refused_before_decoding():
    bomb = jpeg_bytes(size=(4000, 4000))
    with pytest.raises(InvalidInput) as raised:
        image_process(bomb, field="photo", max_pixels=1_000_000)
    assert raised.value.code == "image_too_large"


def test_oversized_file_is_refused():
    with pytest.raises(InvalidInput) as raised:
        image_process(jpeg_bytes(), field="photo", max_bytes=100)
    assert raised.value.code == "image_too_large"
