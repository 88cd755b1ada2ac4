"""``Idempotency-Key`` on the API's creates (``backend.idempotency.IdempotencyKeyMiddleware``), with a
bearer token and with the citizen app's cookie login."""

from datetime import timedelta

import pytest
from django.test import Client, RequestFactory
from django.utils import timezone

from backend.idempotency import _fingerprint
from backend.models import AppSession, IdempotencyRecord
from selvbetjening.models import CitizenRequest, RequestMessage
from tests.borgerapp.helpers import app_client, csrf_headers
from tests.staffweb.helpers import web_client

EPISODES = "/api/v1/episodes"


def _episode_body(world, **changes):  # type: ignore[no-untyped-def]
    from tests.selvbetjening.helpers import episode_body

    return episode_body(world, **changes)


def _episodes() -> int:
    from selvbetjening.models import Episode

    return Episode.objects.count()


@pytest.mark.django_db
def test_a_create_without_client_id_sent_twice_with_one_key_creates_once_and_answers_the_same(world):
    client = world.client("staff_in_team")
    before = _episodes()
    first = client.post(EPISODES, _episode_body(world), headers={"Idempotency-Key": "episode-1"})
    again = client.post(EPISODES, _episode_body(world), headers={"Idempotency-Key": "episode-1"})
    assert first.status_code == again.status_code == 201, first.content
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert _episodes() == before + 1


@pytest.mark.django_db
def test_the_same_key_with_another_body_is_422_and_changes_nothing(world):
    client = world.client("staff_in_team")
    client.post(EPISODES, _episode_body(world), headers={"Idempotency-Key": "episode-2"})
    before = _episodes()
    other = client.post(EPISODES, _episode_body(world, title="Andet"), headers={"Idempotency-Key": "episode-2"})
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert _episodes() == before


@pytest.mark.django_db
def test_a_retry_while_the_first_is_running_is_409_with_retry_after(world):
    client = world.client("staff_in_team")
    request = RequestFactory().post(EPISODES, data=_episode_body(world), content_type="application/json")
    IdempotencyRecord.objects.create(
        scope=f"user:{world.staff_in_team.user.pk}", operation=f"POST {EPISODES}", key="episode-3",
        request_hash=_fingerprint(request),
    )  # fmt: skip
    before = _episodes()
    response = client.post(EPISODES, _episode_body(world), headers={"Idempotency-Key": "episode-3"})
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_in_flight"
    assert response["Retry-After"]
    assert _episodes() == before


@pytest.mark.django_db
def test_keys_belong_to_the_caller(world):
    from backend.models import Membership, StaffRole

    colleague = world.staff_out_of_team
    Membership.objects.create(staff=colleague, team=world.team, role=StaffRole.THERAPIST)
    before = _episodes()
    mine = world.client("staff_in_team").post(EPISODES, _episode_body(world), headers={"Idempotency-Key": "same"})
    theirs = world.client("staff_out_of_team").post(EPISODES, _episode_body(world), headers={"Idempotency-Key": "same"})
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]
    assert _episodes() == before + 2


@pytest.mark.django_db
def test_a_refused_first_attempt_frees_the_key_for_a_corrected_retry(world):
    client = world.client("staff_in_team")
    bad = client.post(EPISODES, _episode_body(world, kind="nonsense"), headers={"Idempotency-Key": "episode-4"})
    assert bad.status_code == 422
    assert not IdempotencyRecord.objects.filter(key="episode-4").exists()
    good = client.post(EPISODES, _episode_body(world), headers={"Idempotency-Key": "episode-4"})
    assert good.status_code == 201


@pytest.mark.django_db
def test_a_malformed_key_is_422_and_logins_are_never_replayed(world):
    client = world.client("staff_in_team")
    before = _episodes()
    response = client.post(EPISODES, _episode_body(world), headers={"Idempotency-Key": "a b"})
    assert response.status_code == 422
    assert _episodes() == before
    token = world.client("anonymous").post(
        "/api/v1/auth/token", {"grant_type": "password", "username": "x", "password": "y"},
        headers={"Idempotency-Key": "login-1"},
    )  # fmt: skip
    assert token.status_code != 200
    assert not IdempotencyRecord.objects.filter(key="login-1").exists()


def _in_flight(*, scope: str, path: str, key: str, body: dict) -> IdempotencyRecord:
    """The record a first request with ``key`` leaves while it is still running."""
    request = RequestFactory().post(path, data=body, content_type="application/json")
    return IdempotencyRecord.objects.create(
        scope=scope, operation=f"POST {path}", key=key, request_hash=_fingerprint(request)
    )


@pytest.mark.django_db
def test_a_first_attempt_that_died_long_ago_is_taken_over_by_its_retry(world):
    record = _in_flight(
        scope=f"user:{world.staff_in_team.user.pk}", path=EPISODES, key="episode-5", body=_episode_body(world)
    )
    IdempotencyRecord.objects.filter(pk=record.pk).update(created_at=timezone.now() - timedelta(minutes=10))
    before = _episodes()
    client = world.client("staff_in_team")
    first = client.post(EPISODES, _episode_body(world), headers={"Idempotency-Key": "episode-5"})
    assert first.status_code == 201, first.content
    again = client.post(EPISODES, _episode_body(world), headers={"Idempotency-Key": '"episode-5"'})
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"  # a quoted key is the same key
    assert again.json() == first.json()
    assert _episodes() == before + 1


# --- The citizen app's cookie login ------------------------------------------------------------------

REQUESTS = "/api/v1/me/requests"
REQUEST = {"category": "help", "text": "Min rollator knirker."}


def _cookie_request(world) -> tuple[Client, str]:  # type: ignore[no-untyped-def]
    """The citizen's cookie-logged-in browser and the path for writing again in a request of theirs."""
    client = app_client(world.citizen.user)
    created = client.post(REQUESTS, REQUEST, content_type="application/json", headers=csrf_headers(client))
    assert created.status_code == 201, created.content
    return client, f"{REQUESTS}/{created.json()['id']}/messages"


def _messages(world) -> int:  # type: ignore[no-untyped-def]
    return RequestMessage.objects.filter(request__citizen=world.citizen).count()


@pytest.mark.django_db
def test_with_the_cookie_login_the_same_key_and_body_gets_the_first_answer_and_writes_once(world):
    client, path = _cookie_request(world)
    headers = {**csrf_headers(client), "Idempotency-Key": "message-1"}
    before = _messages(world)
    first = client.post(path, {"text": "Den knirker stadig."}, content_type="application/json", headers=headers)
    again = client.post(path, {"text": "Den knirker stadig."}, content_type="application/json", headers=headers)
    assert first.status_code == again.status_code == 201, first.content
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert _messages(world) == before + 1
    record = IdempotencyRecord.objects.get(key="message-1")
    assert record.scope == f"user:{world.citizen.user.pk}" and record.completed_at is not None


@pytest.mark.django_db
def test_with_the_cookie_login_the_same_key_with_another_body_is_422_and_writes_nothing(world):
    client, path = _cookie_request(world)
    headers = {**csrf_headers(client), "Idempotency-Key": "message-2"}
    client.post(path, {"text": "Første."}, content_type="application/json", headers=headers)
    before = _messages(world)
    other = client.post(path, {"text": "Anden."}, content_type="application/json", headers=headers)
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert _messages(world) == before


@pytest.mark.django_db
def test_with_the_cookie_login_a_retry_while_the_first_runs_is_409(world):
    client, path = _cookie_request(world)
    body = {"text": "Er I der?"}
    _in_flight(scope=f"user:{world.citizen.user.pk}", path=path, key="message-3", body=body)
    before = _messages(world)
    headers = {**csrf_headers(client), "Idempotency-Key": "message-3"}
    response = client.post(path, body, content_type="application/json", headers=headers)
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_in_flight"
    assert response["Retry-After"]
    assert _messages(world) == before


@pytest.mark.django_db
def test_with_the_cookie_login_another_citizens_same_key_and_body_is_their_own(world):
    mine = app_client(world.citizen.user)
    theirs = app_client(world.other_citizen.user)
    answers = [
        browser.post(
            REQUESTS, REQUEST, content_type="application/json",
            headers={**csrf_headers(browser), "Idempotency-Key": "same-key"},
        )
        for browser in (mine, theirs)
    ]  # fmt: skip
    assert [answer.status_code for answer in answers] == [201, 201]
    assert "Idempotent-Replayed" not in answers[1]
    assert CitizenRequest.objects.get(pk=answers[0].json()["id"]).citizen == world.citizen
    assert CitizenRequest.objects.get(pk=answers[1].json()["id"]).citizen == world.other_citizen
    scopes = set(IdempotencyRecord.objects.filter(key="same-key").values_list("scope", flat=True))
    assert scopes == {f"user:{world.citizen.user.pk}", f"user:{world.other_citizen.user.pk}"}


@pytest.mark.django_db
def test_with_the_cookie_login_a_key_never_bypasses_the_csrf_check(world):
    client, path = _cookie_request(world)
    body = {"text": "Med nøgle."}
    made = client.post(
        path, body, content_type="application/json", headers={**csrf_headers(client), "Idempotency-Key": "message-4"}
    )
    assert made.status_code == 201
    before = _messages(world)
    for headers in ({"Idempotency-Key": "message-4"}, {"Idempotency-Key": "message-5"}):
        refused = client.post(path, body, content_type="application/json", headers=headers)
        assert refused.status_code == 403, headers  # neither the stored answer nor a new write
        assert refused.json()["code"] == "csrf_failed"
        assert "Idempotent-Replayed" not in refused
    assert _messages(world) == before
    assert not IdempotencyRecord.objects.filter(key="message-5").exists()


@pytest.mark.django_db
def test_a_key_from_a_cookie_without_a_login_in_force_is_not_kept(world):
    client, path = _cookie_request(world)
    AppSession.objects.filter(pk=client.app_session.pk).update(revoked_at=timezone.now())  # type: ignore[attr-defined]
    headers = {**csrf_headers(client), "Idempotency-Key": "message-6"}
    response = client.post(path, {"text": "Efter log ud."}, content_type="application/json", headers=headers)
    assert response.status_code == 401
    staff = web_client(world.staff_in_team.user)  # the staff web's cookie opens no API operation
    response = staff.post(EPISODES, _episode_body(world), content_type="application/json", headers=headers)
    assert response.status_code == 401
    assert not IdempotencyRecord.objects.filter(key="message-6").exists()


@pytest.mark.django_db
def test_with_the_cookie_login_a_keyed_photo_upload_is_checked_for_csrf_and_replayed(world):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test.client import encode_multipart

    from tests.selvbetjening.helpers import jpeg_bytes

    client, messages_path = _cookie_request(world)
    path = messages_path.removesuffix("/messages") + "/photo"
    image = jpeg_bytes()

    def upload(headers: dict[str, str], *, boundary: str = "first-boundary", image: bytes = image):  # type: ignore[no-untyped-def]
        photo = SimpleUploadedFile("rollator.jpg", image, content_type="image/jpeg")
        body = encode_multipart(boundary, {"photo": photo})
        content_type = f"multipart/form-data; boundary={boundary}"
        return client.post(path, body, content_type=content_type, headers=headers)

    refused = upload({"Idempotency-Key": "photo-1"})  # a form body: the CSRF check reads it as a form
    assert refused.status_code == 403 and refused.json()["code"] == "csrf_failed"
    headers = {**csrf_headers(client), "Idempotency-Key": "photo-1"}
    first = upload(headers)
    assert first.status_code == 200, first.content
    assert first.json()["has_photo"] is True
    again = upload(headers, boundary="a-retry-lays-the-form-out-anew")
    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    other = upload(headers, image=jpeg_bytes(color=(30, 30, 200)))
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
