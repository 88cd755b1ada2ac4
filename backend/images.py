"""Images from users (request photos, exercise pictures): checked by content, never trusted by name.

``image_process`` and ``image_renditions`` accept only what Pillow recognises as JPEG, PNG or WebP by
its bytes, refuse decompression bombs before decoding pixels, apply the EXIF orientation, drop every
piece of metadata (EXIF with GPS position, ICC, XMP, comments) by re-encoding the pixels alone, and
cap the dimensions. ``image_process`` makes one capped image and a thumbnail (request photos);
``image_renditions`` makes one JPEG per named size (exercise pictures). Anything else is a 422 naming
the field.
"""

import io
import warnings
from collections.abc import Mapping
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from backend.errors import InvalidInput

ACCEPTED_FORMATS = frozenset({"JPEG", "PNG", "WEBP"})
MAX_IMAGE_BYTES = 10_000_000
MAX_IMAGE_PIXELS = 40_000_000
MAX_DIMENSION = 2048
THUMBNAIL_DIMENSION = 320
JPEG_QUALITY = 85


@dataclass(frozen=True)
class ProcessedImage:
    """A re-encoded JPEG without metadata, and its thumbnail."""

    content: bytes
    width: int
    height: int
    thumbnail: bytes
    content_type: str = "image/jpeg"
    extension: str = "jpg"


@dataclass(frozen=True)
class Rendition:
    """One size of a re-encoded JPEG without metadata."""

    content: bytes
    width: int
    height: int
    content_type: str = "image/jpeg"
    extension: str = "jpg"


def _encode_jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return buffer.getvalue()


def _flatten(image: Image.Image) -> Image.Image:
    """RGB pixels only: transparency onto white, palettes and other modes converted."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def _clean_pixels(data: bytes, *, field: str, max_bytes: int, max_pixels: int) -> Image.Image:
    """The upright RGB pixels of an accepted image, in a fresh image that carries no metadata."""
    if not data:
        raise InvalidInput(field, "The file is empty.", code="invalid_image")
    if len(data) > max_bytes:
        raise InvalidInput(field, f"The image is larger than {max_bytes // 1_000_000} MB.", code="image_too_large")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                image_format = probe.format
                width, height = probe.size
                if image_format not in ACCEPTED_FORMATS:
                    raise InvalidInput(field, "Only JPEG, PNG and WebP images are accepted.", code="invalid_image")
                if width * height > max_pixels or width < 1 or height < 1:
                    raise InvalidInput(field, "The image has too many pixels.", code="image_too_large")
                probe.verify()
            # verify() leaves the image unusable; decode a fresh one.
            with Image.open(io.BytesIO(data)) as source:
                source.load()
                oriented = ImageOps.exif_transpose(source)
                pixels = _flatten(oriented)
    except InvalidInput:
        raise
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise InvalidInput(field, "The image has too many pixels.", code="image_too_large") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise InvalidInput(field, "The file is not a readable image.", code="invalid_image") from exc
    # A fresh image from the pixels alone carries no EXIF, ICC, XMP or comments.
    clean = Image.new("RGB", pixels.size)
    clean.paste(pixels)
    return clean


def image_process(
    data: bytes,
    *,
    field: str,
    max_bytes: int = MAX_IMAGE_BYTES,
    max_pixels: int = MAX_IMAGE_PIXELS,
    max_dimension: int = MAX_DIMENSION,
    thumbnail_dimension: int = THUMBNAIL_DIMENSION,
) -> ProcessedImage:
    clean = _clean_pixels(data, field=field, max_bytes=max_bytes, max_pixels=max_pixels)
    clean.thumbnail((max_dimension, max_dimension), Image.Resampling.LANCZOS)
    thumbnail = clean.copy()
    thumbnail.thumbnail((thumbnail_dimension, thumbnail_dimension), Image.Resampling.LANCZOS)
    return ProcessedImage(
        content=_encode_jpeg(clean),
        width=clean.width,
        height=clean.height,
        thumbnail=_encode_jpeg(thumbnail),
    )


def image_renditions(
    data: bytes,
    *,
    field: str,
    sizes: Mapping[str, int],
    max_bytes: int = MAX_IMAGE_BYTES,
    max_pixels: int = MAX_IMAGE_PIXELS,
) -> dict[str, Rendition]:
    """One JPEG per entry of ``sizes`` (name → longest side in pixels), never enlarged.

    Each size is scaled down from the largest one already made, so a picture is decoded once.
    """
    if not sizes or min(sizes.values()) < 1:
        raise ValueError("sizes must name at least one positive dimension")
    current = _clean_pixels(data, field=field, max_bytes=max_bytes, max_pixels=max_pixels)
    renditions: dict[str, Rendition] = {}
    for name, dimension in sorted(sizes.items(), key=lambda entry: -entry[1]):
        current.thumbnail((dimension, dimension), Image.Resampling.LANCZOS)
        renditions[name] = Rendition(content=_encode_jpeg(current), width=current.width, height=current.height)
    return {name: renditions[name] for name in sizes}
