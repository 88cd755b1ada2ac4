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
