"""The exercise library as care staff use it, and exercise pictures as everyone sees them."""

import io
import struct
import zlib
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test.client import MULTIPART_CONTENT
from PIL import Image

from backend.models import AppSession, StaffRole
from selvbetjening.models import Exercise, ExerciseImage
from tests import factories as core
from tests.conftest import ApiClient, access_token_for
from tests.selvbetjening.helpers import jpeg_bytes
from tests.selvbetjening.training_factories import ExerciseFactory

LIST = "/api/v1/exercises"


def titles(response) -> list[str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.content
    return [item["title_da"] for item in response.json()["items"]]


def other_municipality_staff() -> ApiClient:
    municipality = core.MunicipalityFactory(code="751", name="Aarhus")
    team = core.TeamFactory(unit=core.OrganisationUnitFactory(municipality=municipality))
    staff = core.StaffFactory(municipality=municipality)
    core.MembershipFactory(staff=staff, team=team, role=StaffRole.THERAPIST)
    return ApiClient(access_token_for(staff.user, AppSession.Audience.STAFF))


def upload(client: ApiClient, exercise: Exercise, data: bytes, **fields: str):  # type: ignore[no-untyped-def]
    picture = SimpleUploadedFile("billede.jpg", data, content_type="image/jpeg")
    return client.post(f"{LIST}/{exercise.pk}/images", {"image": picture, **fields}, content_type=MULTIPART_CONTENT)


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG file whose header claims ``width`` × ``height`` pixels: a decompression bomb."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 4096))
        + chunk(b"IEND", b"")
    )


@pytest.fixture
def library(world) -> dict[str, Any]:
    return {
        "rejse": ExerciseFactory(
            title_da="Rejse-sætte-sig",
            title_en="Sit to stand",
            instructions_da="1. Sid på forkanten af stolen.\n2. Rejs dig op.",
            instructions_en="1. Sit on the front edge of the chair.\n2. Stand up.",
            body_area=Exercise.BodyArea.LOWER_BODY,
            equipment=Exercise.Equipment.CHAIR,
            difficulty=Exercise.Difficulty.EASY,
        ),
        "balance": ExerciseFactory(
            title_da="Stå på ét ben",
            title_en="One-leg stance",
            instructions_da="1. Hold fast i bordet.\n2. Løft den ene fod.",
            instructions_en="1. Hold on to the counter.\n2. Lift one foot.",
            body_area=Exercise.BodyArea.BALANCE,
            equipment=Exercise.Equipment.TABLE,
            difficulty=Exercise.Difficulty.HARD,
        ),
        "own": ExerciseFactory(
            municipality=world.municipality,
            title_da="Gå til postkassen",
            title_en="Walk to the letterbox",
            instructions_da="Gå roligt hen til postkassen og tilbage.",
            instructions_en="Walk calmly to the letterbox and back.",
            body_area=Exercise.BodyArea.ENDURANCE,
            equipment=Exercise.Equipment.WALKING_AID,
            difficulty=Exercise.Difficulty.MODERATE,
        ),
        "retired": ExerciseFactory(municipality=world.municipality, title_da="Gammel rejseøvelse", is_active=False),
        "elsewhere": ExerciseFactory(
            municipality=core.MunicipalityFactory(code="101", name="København"), title_da="Rejse sig i København"
        ),
    }


# --- Search and filters --------------------------------------------------------------------------


@pytest.mark.django_db
def test_search_finds_rejse_in_the_danish_title_whatever_the_case(world, library):
    staff = world.client("staff_in_team")
    assert titles(staff.get(LIST, {"q": "rejse"})) == ["Rejse-sætte-sig"]
    assert titles(staff.get(LIST, {"q": "REJSE"})) == ["Rejse-sætte-sig"]


@pytest.mark.django_db
def test_search_ignores_case_in_danish_letters_too(world, library):
    staff = world.client("staff_in_team")
    assert titles(staff.get(LIST, {"q": "STÅ PÅ ÉT"})) == ["Stå på ét ben"]
    assert titles(staff.get(LIST, {"q": "SÆTTE"})) == ["Rejse-sætte-sig"]
    assert titles(staff.get(LIST, {"q": "ØSTERPORT"})) == []
    edited = staff.patch(f"{LIST}/{library['own'].pk}", {"version": 1, "title_da": "Gå til Østerport"})
    assert edited.status_code == 200, edited.content
    assert titles(staff.get(LIST, {"q": "østerport"})) == ["Gå til Østerport"]
    assert titles(staff.get(LIST, {"q": "postkassen"})) == ["Gå til Østerport"], "the instructions still match"


@pytest.mark.django_db
def test_search_looks_in_english_and_in_the_instructions_and_needs_every_word(world, library):
    staff = world.client("staff_in_team")
    assert titles(staff.get(LIST, {"q": "stand"})) == ["Rejse-sætte-sig"]
    assert titles(staff.get(LIST, {"q": "postkassen"})) == ["Gå til postkassen"]
    assert titles(staff.get(LIST, {"q": "fod bordet"})) == ["Stå på ét ben"]
    assert titles(staff.get(LIST, {"q": "fod stolen"})) == []


@pytest.mark.django_db
def test_filters_narrow_the_list(world, library):
    staff = world.client("staff_in_team")
    assert titles(staff.get(LIST, {"body_area": "balance"})) == ["Stå på ét ben"]
    assert titles(staff.get(LIST, {"equipment": "chair"})) == ["Rejse-sætte-sig"]
    assert titles(staff.get(LIST, {"difficulty": 3})) == ["Stå på ét ben"]
    both = staff.get(LIST, {"body_area": ["balance", "lower_body"]})
    assert sorted(titles(both)) == ["Rejse-sætte-sig", "Stå på ét ben"]


@pytest.mark.django_db
def test_scope_separates_the_shared_library_from_the_municipalitys_own(world, library):
    staff = world.client("staff_in_team")
    assert titles(staff.get(LIST, {"scope": "own"})) == ["Gå til postkassen"]
    assert sorted(titles(staff.get(LIST, {"scope": "shared"}))) == ["Rejse-sætte-sig", "Stå på ét ben"]
    assert len(titles(staff.get(LIST))) == 3


@pytest.mark.django_db
def test_retired_exercises_are_left_out_unless_asked_for(world, library):
    staff = world.client("staff_in_team")
    assert "Gammel rejseøvelse" not in titles(staff.get(LIST))
    assert "Gammel rejseøvelse" in titles(staff.get(LIST, {"include_retired": True}))


@pytest.mark.django_db
def test_another_municipalitys_exercise_is_never_listed_and_is_404(world, library):
    staff = world.client("staff_in_team")
    assert "Rejse sig i København" not in titles(staff.get(LIST, {"include_retired": True, "q": "rejse"}))
    elsewhere = library["elsewhere"]
    assert staff.get(f"{LIST}/{elsewhere.pk}").status_code == 404
    response = staff.patch(f"{LIST}/{elsewhere.pk}", {"version": 1, "title_da": "Overtaget"})
    assert response.status_code == 404
    elsewhere.refresh_from_db()
    assert elsewhere.title_da == "Rejse sig i København"


@pytest.mark.django_db
def test_pages_are_bounded_and_follow_on(world):
    ExerciseFactory.create_batch(5)
    staff = world.client("staff_in_team")
    first = staff.get(LIST, {"limit": 3}).json()
    second = staff.get(LIST, {"limit": 3, "cursor": first["next_cursor"]}).json()
    seen = [item["id"] for item in first["items"] + second["items"]]
    assert len(seen) == len(set(seen)) == 5
    assert second["next_cursor"] is None


@pytest.mark.django_db
def test_a_bad_filter_value_is_422_naming_it(world):
    response = world.client("staff_in_team").get(LIST, {"body_area": "feet"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body_area.0"


# --- Reading in either language ------------------------------------------------------------------


@pytest.mark.django_db
def test_texts_come_in_the_language_asked_for_and_in_both(world, library):
    staff = world.client("staff_in_team")
    path = f"{LIST}/{library['rejse'].pk}"
    danish = staff.get(path).json()
    english = staff.get(path, headers={"Accept-Language": "en"}).json()
    assert danish["title"] == "Rejse-sætte-sig" and danish["body_area_name"] == "Ben og hofter"
    assert english["title"] == "Sit to stand" and english["body_area_name"] == "Legs and hips"
    assert english["instructions"].startswith("1. Sit on the front edge")
    assert english["title_da"] == "Rejse-sætte-sig" and danish["title_en"] == "Sit to stand"
    assert danish["is_shared"] is True


@pytest.mark.django_db
def test_an_exercise_without_english_text_shows_the_danish_one_in_english(world):
    staff = world.client("staff_in_team")
    created = staff.post(
        LIST, {"title_da": "Vrid karklud", "instructions_da": "Vrid kluden hårdt.", "body_area": "hand"}
    ).json()
    english = staff.get(f"{LIST}/{created['id']}", headers={"Accept-Language": "en"}).json()
    assert english["title"] == "Vrid karklud" and english["instructions"] == "Vrid kluden hårdt."


# --- Creating, editing and retiring --------------------------------------------------------------


@pytest.mark.django_db
def test_staff_add_an_exercise_for_their_municipality(world):
    response = world.client("staff_out_of_team").post(
        LIST,
        {
            "title_da": "Gå baglæns",
            "title_en": "Walking backwards",
            "instructions_da": "1. Hold fast i bordet.\n2. Gå tre skridt baglæns.",
            "body_area": "balance",
            "equipment": "table",
            "difficulty": 2,
            "video_url": "https://video.example.dk/baglaens",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["is_shared"] is False and body["municipality_id"] == str(world.municipality.pk)
    stored = Exercise.objects.get(pk=body["id"])
    assert stored.created_by == world.staff_out_of_team.user
    colleague_view = world.client("staff_in_team").get(f"{LIST}/{body['id']}")
    assert colleague_view.status_code == 200
    assert other_municipality_staff().get(f"{LIST}/{body['id']}").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize(
    "video_url",
    ["http://video.example.dk/x", "javascript:alert(1)", "ftp://video.example.dk/x", "https://user:pw@example.dk/v"],
)
def test_a_video_link_must_be_https(world, video_url):
    response = world.client("staff_in_team").post(
        LIST, {"title_da": "Øvelse", "instructions_da": "Gør sådan.", "body_area": "hand", "video_url": video_url}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "video_url"
    assert not Exercise.objects.exists()


@pytest.mark.django_db
def test_edit_with_the_version_read_changes_it_and_a_stale_version_is_409(world, library):
    own = library["own"]
    staff = world.client("staff_in_team")
    first = staff.patch(f"{LIST}/{own.pk}", {"version": 1, "title_da": "Gå til postkassen og tilbage"})
    assert first.status_code == 200 and first.json()["version"] == 2
    stale = world.client("staff_out_of_team").patch(f"{LIST}/{own.pk}", {"version": 1, "title_da": "Gå en tur"})
    assert stale.status_code == 409 and stale.json()["code"] == "stale_version"
    own.refresh_from_db()
    assert own.title_da == "Gå til postkassen og tilbage" and own.version == 2


@pytest.mark.django_db
def test_the_shared_library_is_read_only(world, library):
    shared = library["rejse"]
    staff = world.client("staff_in_team")
    response = staff.patch(f"{LIST}/{shared.pk}", {"version": 1, "title_da": "Min udgave"})
    assert response.status_code == 403 and response.json()["code"] == "shared_exercise_read_only"
    picture = upload(staff, shared, jpeg_bytes())
    assert picture.status_code == 403 and picture.json()["code"] == "shared_exercise_read_only"
    shared.refresh_from_db()
    assert shared.title_da == "Rejse-sætte-sig" and shared.version == 1
    assert not ExerciseImage.objects.exists()


@pytest.mark.django_db
def test_a_retired_exercise_leaves_the_search_but_can_still_be_read(world, library):
    own = library["own"]
    staff = world.client("staff_in_team")
    response = staff.patch(f"{LIST}/{own.pk}", {"version": 1, "is_active": False})
    assert response.status_code == 200 and response.json()["is_active"] is False
    assert "Gå til postkassen" not in titles(staff.get(LIST))
    assert staff.get(f"{LIST}/{own.pk}").json()["is_active"] is False
    assert Exercise.objects.filter(pk=own.pk).exists()


@pytest.mark.django_db
def test_an_empty_danish_title_is_refused_and_nothing_changes(world, library):
    own = library["own"]
    response = world.client("staff_in_team").patch(f"{LIST}/{own.pk}", {"version": 1, "title_da": "   "})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "title_da"
    own.refresh_from_db()
    assert own.title_da == "Gå til postkassen" and own.version == 1


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["citizen", "relative_with_consent", "it", "analyst"])
def test_only_care_staff_use_the_library(world, library, role):
    client = world.client(role)
    assert client.get(LIST).status_code == 403
    response = client.post(LIST, {"title_da": "x", "instructions_da": "y", "body_area": "hand"})
    assert response.status_code == 403
    assert Exercise.objects.count() == len(library)


# --- Pictures ------------------------------------------------------------------------------------


def _gps_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "Telefonkamera"  # Make
    exif[0x8825] = {1: "N", 2: (55.0, 24.0, 0.0), 3: "E", 4: (10.0, 23.0, 0.0)}  # GPS position
    return exif


def _open(content: bytes) -> Image.Image:
    return Image.open(io.BytesIO(content))


@pytest.mark.django_db
def test_a_picture_comes_back_without_its_gps_position_in_three_sizes(world, library):
    own = library["own"]
    staff = world.client("staff_in_team")
    original = jpeg_bytes(size=(3000, 1000), exif=_gps_exif())
    with _open(original) as check:
        assert check.getexif().get_ifd(0x8825)
    response = upload(staff, own, original, alt_text_da="Borger ved postkassen", alt_text_en="At the letterbox")
    assert response.status_code == 201, response.content
    created = response.json()
    assert (created["width"], created["height"]) == (1600, 533)
    expected = {"large": (1600, 533), "medium": (800, 267), "thumbnail": (320, 107)}
    for size, dimensions in expected.items():
        served = staff.get(created["urls"][size])
        assert served.status_code == 200 and served["Content-Type"] == "image/jpeg"
        with _open(served.content) as picture:
            assert picture.format == "JPEG" and picture.size == dimensions
            assert not picture.getexif()
            assert not picture.getexif().get_ifd(0x8825)
        assert b"Telefonkamera" not in served.content
    detail = staff.get(f"{LIST}/{own.pk}").json()
    assert [image["id"] for image in detail["images"]] == [created["id"]]
    assert detail["images"][0]["alt_text"] == "Borger ved postkassen"


@pytest.mark.django_db
def test_a_small_picture_is_not_enlarged(world, library):
    response = upload(world.client("staff_in_team"), library["own"], jpeg_bytes(size=(200, 100)))
    assert response.status_code == 201
    served = world.client("staff_in_team").get(response.json()["urls"]["large"])
    with _open(served.content) as picture:
        assert picture.size == (200, 100)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"%PDF-1.4 this is a document", "invalid_image"),
        (b"GIF89a not really a picture", "invalid_image"),
        (png_declaring(8000, 8000), "image_too_large"),
        (png_declaring(60000, 60000), "image_too_large"),
    ],
    ids=["pdf", "fake-gif", "too-many-pixels", "decompression-bomb"],
)
def test_what_is_not_an_acceptable_picture_is_422_and_nothing_is_stored(world, library, data, code, settings):
    own = library["own"]
    response = upload(world.client("staff_in_team"), own, data)
    assert response.status_code == 422
    assert response.json()["code"] == code and response.json()["errors"][0]["field"] == "image"
    assert not ExerciseImage.objects.exists()
    stored = settings.MEDIA_ROOT / "exercises"
    assert not stored.exists() or not any(stored.rglob("*.jpg"))


@pytest.mark.django_db
def test_a_body_over_the_upload_limit_is_413(world, library, settings):
    settings.MAX_UPLOAD_BYTES = 50_000
    response = upload(world.client("staff_in_team"), library["own"], b"\xff" * 60_000)
    assert response.status_code == 413
    assert not ExerciseImage.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "role", ["citizen", "other_citizen", "relative_with_consent", "staff_in_team", "it", "analyst"]
)
def test_everyone_logged_in_can_fetch_a_picture_and_keep_it(world, library, role):
    created = upload(world.client("staff_in_team"), library["own"], jpeg_bytes(size=(400, 300))).json()
    response = world.client(role).get(created["urls"]["thumbnail"])
    assert response.status_code == 200 and response.content.startswith(b"\xff\xd8")
    assert "max-age=31536000" in response["Cache-Control"] and "immutable" in response["Cache-Control"]


@pytest.mark.django_db
def test_a_picture_needs_a_login_and_an_unknown_one_or_size_is_404(world, library, anonymous):
    created = upload(world.client("staff_in_team"), library["own"], jpeg_bytes()).json()
    assert anonymous.get(created["urls"]["large"]).status_code == 401
    citizen = world.client("citizen")
    assert citizen.get(f"/api/v1/exercise-images/{created['id']}/huge").status_code == 404
    assert citizen.get("/api/v1/exercise-images/00000000-0000-4000-8000-000000000000/large").status_code == 404


@pytest.mark.django_db
def test_removing_a_picture_removes_it_for_everyone(world, library, django_capture_on_commit_callbacks, settings):
    own = library["own"]
    staff = world.client("staff_in_team")
    created = upload(staff, own, jpeg_bytes()).json()
    assert any((settings.MEDIA_ROOT / "exercises").rglob("*.jpg"))
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.delete(f"{LIST}/{own.pk}/images/{created['id']}")
    assert response.status_code == 204
    assert staff.get(f"{LIST}/{own.pk}").json()["images"] == []
    assert world.client("citizen").get(created["urls"]["thumbnail"]).status_code == 404
    assert not any((settings.MEDIA_ROOT / "exercises").rglob("*.jpg"))


@pytest.mark.django_db
def test_a_picture_of_another_exercise_cannot_be_removed_through_this_one(world, library):
    staff = world.client("staff_in_team")
    other = ExerciseFactory(municipality=world.municipality)
    created = upload(staff, other, jpeg_bytes()).json()
    response = staff.delete(f"{LIST}/{library['own'].pk}/images/{created['id']}")
    assert response.status_code == 404
    assert ExerciseImage.objects.filter(pk=created["id"]).exists()


# --- Query counts --------------------------------------------------------------------------------


def _grow(world: Any, count: int) -> None:
    for index in range(count):
        exercise = ExerciseFactory(municipality=world.municipality if index % 2 else None)
        for position in range(2):
            ExerciseImage.objects.create(
                exercise=exercise,
                position=position,
                image="exercises/x/large.jpg",
                medium="exercises/x/medium.jpg",
                thumbnail="exercises/x/thumbnail.jpg",
                width=10,
                height=10,
            )


LIST_QUERIES = 4  # the token, the memberships, the page, the pictures


@pytest.mark.django_db
@pytest.mark.parametrize("count", [3, 20])
def test_the_list_costs_the_same_queries_for_3_or_20_exercises(world, count, django_assert_num_queries):
    _grow(world, count)
    staff = world.client("staff_in_team")
    with django_assert_num_queries(LIST_QUERIES):
        response = staff.get(LIST)
    assert len(response.json()["items"]) == count
    assert all(len(item["images"]) == 2 for item in response.json()["items"])


@pytest.mark.django_db
def test_an_exercise_holds_at_most_ten_pictures(world, library, settings):
    own = library["own"]
    staff = world.client("staff_in_team")
    for _ in range(10):
        assert upload(staff, own, jpeg_bytes()).status_code == 201
    response = upload(staff, own, jpeg_bytes())
    assert response.status_code == 409 and response.json()["code"] == "too_many_images"
    assert ExerciseImage.objects.filter(exercise=own).count() == 10
    assert len(list((settings.MEDIA_ROOT / "exercises").rglob("*.jpg"))) == 30
