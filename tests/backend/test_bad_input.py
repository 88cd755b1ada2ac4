"""Bad input of every kind: a 4xx problem+json with a stable code, never a 500, and nothing changed."""

import base64
import io
import json
import uuid

import pyotp
import pytest
from django.core.handlers.asgi import ASGIRequest
from django.db import IntegrityError
from django.http import HttpResponse
from django.test import Client

from backend.middleware import BodySizeLimitMiddleware
from backend.models import AccessLogEntry, AccountLockout, AppSession, Citizen, Token, User
from tests.conftest import ApiClient
from velfaerdsteknologi.models import DeviceCredential

TOKEN_URL = "/api/v1/auth/token"
LOOKUP_URL = "/api/v1/citizens/lookup"
REVOKE_URL = "/api/v1/auth/revoke"


def database_state() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (AccessLogEntry, AccountLockout, AppSession, Citizen, Token, User, DeviceCredential)
    }


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == code
    assert body["status"] == status
    assert body["title"]
    assert body["request_id"] == response["X-Request-ID"]
    return body


def field_names(body: dict) -> set[str]:
    return {error["field"] for error in body.get("errors", [])}


def password_payload(user, **changes) -> dict:
    payload = {
        "grant_type": "password",
        "username": user.username,
        "password": "correct horse battery",
        "totp_code": pyotp.TOTP(user.totp_secret).now(),
    }
    payload.update(changes)
    return payload


@pytest.fixture
def unchanged(world):
    """Asserts after the test that no row was added, changed away or removed."""
    before = database_state()
    yield
    assert database_state() == before


@pytest.mark.django_db
def test_unknown_body_field_is_422_naming_the_field(world, unchanged):
    response = ApiClient().post(TOKEN_URL, password_payload(world.citizen.user, is_admin=True))
    body = assert_problem(response, 422, "validation_failed")
    assert "is_admin" in field_names(body)
    assert "is_admin" in body["detail"]


@pytest.mark.django_db
def test_unknown_field_on_an_authenticated_endpoint_is_422(world, unchanged):
    response = world.client("staff_in_team").post(LOOKUP_URL, {"cpr": "0101901234", "name": "x"})
    body = assert_problem(response, 422, "validation_failed")
    assert field_names(body) == {"name"}


@pytest.mark.django_db
@pytest.mark.parametrize("token", [12345, ["mat_abc"], None, {"token": "x"}, True])
def test_wrong_type_is_422_naming_the_field(world, unchanged, token):
    response = ApiClient().post(REVOKE_URL, {"token": token})
    body = assert_problem(response, 422, "validation_failed")
    assert field_names(body) == {"token"}


@pytest.mark.django_db
def test_too_long_value_is_422_naming_the_field(world, unchanged):
    response = ApiClient().post(REVOKE_URL, {"token": "mat_" + "a" * 500})
    body = assert_problem(response, 422, "validation_failed")
    assert field_names(body) == {"token"}


@pytest.mark.django_db
def test_wrong_type_in_token_request_is_422(world, unchanged):
    response = ApiClient().post(TOKEN_URL, password_payload(world.citizen.user, install_id={"a": 1}))
    body = assert_problem(response, 422, "validation_failed")
    assert "install_id" in field_names(body)


@pytest.mark.django_db
def test_unknown_grant_type_is_422(world, unchanged):
    response = ApiClient().post(TOKEN_URL, {"grant_type": "client_credentials"})
    body = assert_problem(response, 422, "validation_failed")
    assert "grant_type" in field_names(body)


@pytest.mark.django_db
def test_missing_field_is_422_naming_the_field(world, unchanged):
    body = assert_problem(ApiClient().post(REVOKE_URL, {}), 422, "validation_failed")
    assert field_names(body) == {"token"}

    response = ApiClient().post(TOKEN_URL, {"username": "someone"})
    body = assert_problem(response, 422, "validation_failed")
    assert "grant_type" in field_names(body)


@pytest.mark.django_db
def test_empty_body_is_422(world, unchanged):
    response = ApiClient().post(REVOKE_URL, b"", content_type="application/json")
    assert_problem(response, 422, "validation_failed")


@pytest.mark.django_db
def test_password_grant_without_a_code_is_422(world, unchanged):
    payload = password_payload(world.citizen.user)
    del payload["totp_code"]
    body = assert_problem(ApiClient().post(TOKEN_URL, payload), 422, "invalid")
    assert body["errors"][0]["field"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "raw",
    [b'{"grant_type": "password",', b"not json at all", b"\xff\xfe\x00garbage", b"{'single': 'quotes'}"],
)
def test_malformed_json_is_400(world, unchanged, raw):
    response = ApiClient().post(TOKEN_URL, raw, content_type="application/json")
    assert_problem(response, 400, "bad_request")


@pytest.mark.django_db
@pytest.mark.parametrize("raw", [b"[]", b"null", b"42", b'"text"'])
def test_json_that_is_not_an_object_is_a_4xx_problem(world, unchanged, raw):
    response = ApiClient().post(TOKEN_URL, raw, content_type="application/json")
    assert response.status_code in (400, 422), response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] in ("bad_request", "validation_failed")


@pytest.mark.django_db
def test_body_over_the_limit_is_413(world, unchanged, settings):
    settings.MAX_BODY_BYTES = 2_000
    payload = password_payload(world.citizen.user, device_name="x" * 3_000)
    body = assert_problem(ApiClient().post(TOKEN_URL, payload), 413, "payload_too_large")
    assert "2000" in body["detail"]


@pytest.mark.django_db
def test_body_at_the_default_limit_is_refused_before_parsing(world, unchanged, settings):
    raw = b'{"grant_type": "password", "username": "' + b"a" * settings.MAX_BODY_BYTES + b'"}'
    assert_problem(ApiClient().post(TOKEN_URL, raw, content_type="application/json"), 413, "payload_too_large")


@pytest.mark.django_db
@pytest.mark.parametrize("declared", ["abc", "-1", "1e3", "12 34"])
def test_invalid_content_length_is_400(world, unchanged, declared):
    response = ApiClient().post(TOKEN_URL, {"grant_type": "password"}, CONTENT_LENGTH=declared)
    assert_problem(response, 400, "bad_content_length")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "mat_without_scheme",
        "Bearer mat_" + "a" * 5_000,
        "Bearer mat_ÆØÅ" + "a" * 40,
        "Bearer mat_" + "a" * 43 + " extra",
        "Bearer ' OR 1=1 --",
    ],
)
def test_malformed_bearer_token_is_401(world, unchanged, authorization):
    response = Client().get("/api/v1/me", headers={"Authorization": authorization})
    body = assert_problem(response, 401, "not_authenticated")
    assert body["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.django_db
def test_device_token_on_a_user_endpoint_is_401(world, unchanged):
    response = ApiClient(world.device_token).get("/api/v1/me")
    assert_problem(response, 401, "not_authenticated")
    response = ApiClient(world.device_token).get("/api/v1/me/sessions")
    assert_problem(response, 401, "not_authenticated")


@pytest.mark.django_db
def test_user_token_on_the_device_endpoint_is_401(world, unchanged):
    assert ApiClient(world.device_token).get("/api/v1/device/me").status_code == 200
    for role in ("citizen", "staff_in_team", "it"):
        response = world.client(role).get("/api/v1/device/me")
        assert_problem(response, 401, "not_authenticated")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/citizens/not-a-uuid"),
        ("get", "/api/v1/citizens/12345"),
        ("delete", "/api/v1/me/sessions/'%20OR%201=1"),
        ("delete", "/api/v1/me/sessions/" + "f" * 33),
    ],
)
def test_invalid_uuid_in_path_is_a_404_problem(world, unchanged, method, path):
    response = getattr(world.client("staff_in_team"), method)(path)
    assert_problem(response, 404, "not_found")


@pytest.mark.django_db
def test_unknown_uuid_in_path_is_404(world, unchanged):
    response = world.client("staff_in_team").get(f"/api/v1/citizens/{uuid.uuid4()}")
    assert_problem(response, 404, "not_found")


def encoded_cursor(values) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "cursor",
    [
        "garbage!!",
        "%%%",
        encoded_cursor({"not": "a list"}),
        encoded_cursor(["only-one"]),
        encoded_cursor([1, 2]),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    ],
)
def test_invalid_cursor_is_422_naming_cursor(world, unchanged, cursor):
    response = world.client("citizen").get("/api/v1/me/access-log", {"cursor": cursor})
    body = assert_problem(response, 422, "invalid")
    assert field_names(body) == {"cursor"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "role", "cursor"),
    [
        ("/api/v1/me/access-log", "citizen", encoded_cursor(["not-a-date", "1"])),
        ("/api/v1/me/access-log", "citizen", encoded_cursor(["2024-01-01T00:00:00+00:00", "not-a-number"])),
        ("/api/v1/citizens", "staff_in_team", encoded_cursor(["Hansen", "Anne", "not-a-uuid"])),
    ],
)
def test_cursor_with_values_of_the_wrong_type_is_422_naming_cursor(world, path, role, cursor):
    response = world.client(role).get(path, {"cursor": cursor})
    body = assert_problem(response, 422, "invalid")
    assert field_names(body) == {"cursor"}


@pytest.mark.django_db
def test_non_numeric_limit_is_422(world):
    response = world.client("citizen").get("/api/v1/me/access-log", {"limit": "many"})
    body = assert_problem(response, 422, "validation_failed")
    assert "limit" in field_names(body)


@pytest.mark.django_db
def test_limit_over_100_is_capped_at_100_items(world):
    AccessLogEntry.objects.bulk_create(
        [
            AccessLogEntry(
                actor_id=world.staff_in_team.user.pk,
                actor_name="Terapeut",
                actor_role="therapist",
                citizen=world.citizen,
                resource_type="citizen",
                action=AccessLogEntry.Action.READ,
                purpose=AccessLogEntry.Purpose.CARE,
            )
            for _ in range(130)
        ]
    )
    client = world.client("citizen")

    first = client.get("/api/v1/me/access-log", {"limit": 1_000_000})

    assert first.status_code == 200
    page = first.json()
    assert len(page["items"]) == 100
    assert page["next_cursor"]
    second = client.get("/api/v1/me/access-log", {"limit": 1_000_000, "cursor": page["next_cursor"]}).json()
    assert len(second["items"]) == 30
    assert second["next_cursor"] is None


def asgi_post(body: bytes, *, content_length: bool):
    headers = [(b"content-type", b"application/json")]
    if content_length:
        headers.append((b"content-length", str(len(body)).encode()))
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/api/v1/auth/revoke",
        "query_string": b"",
        "headers": headers,
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 5000),
    }
    return ASGIRequest(scope, io.BytesIO(body))


def echo_body(request) -> HttpResponse:
    return HttpResponse(request.body, content_type="application/octet-stream")


def test_chunked_body_without_length_over_the_limit_is_413(settings):
    settings.MAX_BODY_BYTES = 1_000
    response = BodySizeLimitMiddleware(echo_body)(asgi_post(b"x" * 1_001, content_length=False))
    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"
    assert json.loads(response.content)["code"] == "payload_too_large"


def test_chunked_body_without_length_within_the_limit_reaches_the_view_whole(settings):
    settings.MAX_BODY_BYTES = 1_000
    body = b'{"token": "' + b"y" * 900 + b'"}'
    response = BodySizeLimitMiddleware(echo_body)(asgi_post(body, content_length=False))
    assert response.status_code == 200
    assert response.content == body


@pytest.mark.django_db
def test_request_id_with_a_line_break_is_replaced_not_echoed(world):
    response = ApiClient().get("/api/v1/me", HTTP_X_REQUEST_ID="abcdefgh\nSet-Cookie: x=1")
    assert response.status_code == 401
    assert "\n" not in response["X-Request-ID"]
    assert response["X-Request-ID"] != "abcdefgh"


@pytest.mark.django_db
def test_well_formed_request_id_from_the_proxy_is_kept(world):
    response = ApiClient().get("/api/v1/me", HTTP_X_REQUEST_ID="proxy-req-12345678")
    assert response["X-Request-ID"] == "proxy-req-12345678"
    assert response.json()["request_id"] == "proxy-req-12345678"


@pytest.mark.django_db
def test_a_method_the_path_does_not_allow_is_a_405_problem(world):
    response = world.client("citizen").put("/api/v1/me", {"display_name": "x"})
    assert response.status_code == 405
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "method_not_allowed"
    assert "GET" in response["Allow"]


@pytest.mark.django_db
def test_a_multipart_body_without_boundary_is_a_400_problem(world):
    client = world.client("citizen")
    response = client.post("/api/v1/me/requests", b"--x\r\n", content_type="multipart/form-data")
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"


@pytest.mark.django_db
@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400", "1" * 50])
def test_numbers_json_does_not_know_are_refused_as_unparseable(world, number):
    client = world.client("staff_in_team")
    response = client.post("/api/v1/citizens/lookup", f'{{"cpr": {number}}}')
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("error", "status", "code"),
    [(OverflowError("date value out of range"), 422, "out_of_range"), (IntegrityError("unique"), 409, "conflict")],
)
def test_last_resort_errors_are_problems_not_500(world, monkeypatch, error, status, code):
    from backend.routers import me

    def fail(actor):
        raise error

    monkeypatch.setattr(me, "me_for", fail)
    response = world.client("citizen").get("/api/v1/me")
    assert response.status_code == status
    assert response.json()["code"] == code
