from datetime import timedelta

import pytest
from django.test import RequestFactory
from django.utils import timezone

from backend.errors import Conflict, InvalidInput
from backend.idempotency import IdempotencyKeyReused, idempotency_key, idempotent
from backend.models import IdempotencyRecord, Municipality


def create_municipality(code: str):  # type: ignore[no-untyped-def]
    calls = []

    def perform():  # type: ignore[no-untyped-def]
        municipality = Municipality.objects.create(code=code, name=f"Kommune {code}")
        calls.append(municipality)
        return 201, {"id": str(municipality.pk), "code": code}

    return perform, calls


@pytest.mark.django_db
def test_retry_with_same_key_and_body_replays_and_creates_nothing():
    perform, calls = create_municipality("101")
    first = idempotent(scope="user:a", operation="create", key="k1", payload={"code": "101"}, perform=perform)
    again = idempotent(scope="user:a", operation="create", key="k1", payload={"code": "101"}, perform=perform)
    assert first == again
    assert first[0] == 201
    assert len(calls) == 1
    assert Municipality.objects.filter(code="101").count() == 1


@pytest.mark.django_db
def test_same_key_different_body_is_refused_with_422():
    perform, _ = create_municipality("102")
    idempotent(scope="user:a", operation="create", key="k2", payload={"code": "102"}, perform=perform)
    other, calls = create_municipality("103")
    with pytest.raises(IdempotencyKeyReused):
        idempotent(scope="user:a", operation="create", key="k2", payload={"code": "103"}, perform=other)
    assert calls == []
    assert not Municipality.objects.filter(code="103").exists()


@pytest.mark.django_db
def test_keys_are_scoped_to_the_caller():
    perform_a, calls_a = create_municipality("104")
    perform_b, calls_b = create_municipality("105")
    idempotent(scope="user:a", operation="create", key="same", payload={}, perform=perform_a)
    idempotent(scope="user:b", operation="create", key="same", payload={}, perform=perform_b)
    assert len(calls_a) == len(calls_b) == 1


@pytest.mark.django_db
def test_request_still_in_flight_gets_409_and_a_dead_one_is_taken_over():
    IdempotencyRecord.objects.create(scope="user:a", operation="create", key="k3", request_hash=_hash({}))
    perform, calls = create_municipality("106")
    with pytest.raises(Conflict) as raised:
        idempotent(scope="user:a", operation="create", key="k3", payload={}, perform=perform)
    assert raised.value.code == "idempotency_in_flight"
    IdempotencyRecord.objects.filter(key="k3").update(created_at=timezone.now() - timedelta(minutes=10))
    status, _ = idempotent(scope="user:a", operation="create", key="k3", payload={}, perform=perform)
    assert status == 201
    assert len(calls) == 1


@pytest.mark.django_db
def test_failure_releases_the_key_so_the_client_can_retry():
    def failing():  # type: ignore[no-untyped-def]
        Municipality.objects.create(code="107", name="Halv")
        raise InvalidInput("code", "bad")

    with pytest.raises(InvalidInput):
        idempotent(scope="user:a", operation="create", key="k4", payload={}, perform=failing)
    assert not Municipality.objects.filter(code="107").exists()
    assert not IdempotencyRecord.objects.filter(key="k4").exists()
    perform, calls = create_municipality("108")
    idempotent(scope="user:a", operation="create", key="k4", payload={}, perform=perform)
    assert len(calls) == 1


def test_header_is_validated():
    factory = RequestFactory()
    assert idempotency_key(factory.get("/", headers={"Idempotency-Key": '"abc-123"'})) == "abc-123"
    assert idempotency_key(factory.get("/")) is None
    with pytest.raises(InvalidInput):
        idempotency_key(factory.get("/", headers={"Idempotency-Key": "x" * 200}))


def _hash(payload):  # type: ignore[no-untyped-def]
    from backend.idempotency import request_fingerprint

    return request_fingerprint(payload)


# --- The header on the API's creates ---------------------------------------------------------------

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
    from backend.idempotency import _fingerprint

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
