import copy
import importlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.cache import caches
from django.db import connections, transaction
from django.test import Client, override_settings

from backend.models import AppSession, StaffRole
from backend.services.identity import ClientInfo, session_start
from tests import factories
from tests.chromium import _chromium_session, chromium  # noqa: F401 — the browser tests' fixtures
from tests.selvbetjening.factories import NetworkGrantFactory
from velfaerdsteknologi.credentials import device_credential_issue


@pytest.fixture(autouse=True)
def _migration_rows_after_a_flush(request):
    """A transactional test starts after the previous one's flush, which empties every table, the rows the
    migrations seed (the device categories) included: put them back, as a migrated database has them."""
    marker = request.node.get_closest_marker("django_db")
    transactional = "transactional_db" in request.fixturenames or "live_server" in request.fixturenames
    if not transactional and not (marker is not None and marker.kwargs.get("transaction")):
        return
    request.getfixturevalue("transactional_db")
    from django.apps import apps

    importlib.import_module("velfaerdsteknologi.migrations.0003_device_categories").forwards(apps, None)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _push_at_once(settings):
    """Pushes fall due at once, unless a test sets PUSH_GRACE_SECONDS to see them wait for the websocket."""
    settings.PUSH_GRACE_SECONDS = 0


class _PinnedClock:
    """``time`` as the rate limits see it during a test: ``time()`` stands one second into a day, so that every
    attempt a test makes falls into the same fixed window (60 s, 15 min, an hour: each divides a day) however
    slowly the machine runs; everything else is the real module."""

    def __init__(self) -> None:
        self.now = (time.time() // 86_400) * 86_400 + 1

    def time(self) -> float:
        return self.now

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


@pytest.fixture(autouse=True)
def _fresh_rate_limits(monkeypatch):
    from backend import ratelimit

    caches["shared"].clear()
    ratelimit._local_fallback.clear()
    monkeypatch.setattr(ratelimit, "time", _PinnedClock())
    yield


def access_token_for(user, audience: str = AppSession.Audience.CITIZEN, **kwargs: Any) -> str:
    pair = session_start(user=user, audience=audience, client=ClientInfo("127.0.0.1", "pytest"), **kwargs)
    return pair.access_token


class ApiClient(Client):
    """A test client that speaks JSON and carries a bearer token."""

    def __init__(self, token: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.token = token

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        merged = dict(headers or {})
        if self.token:
            merged.setdefault("Authorization", f"Bearer {self.token}")
        return merged

    def get(self, path, data=None, headers=None, **extra):  # type: ignore[override]
        return super().get(path, data, headers=self._headers(headers), **extra)

    def delete(self, path, data="", headers=None, **extra):  # type: ignore[override]
        return super().delete(path, data, headers=self._headers(headers), **extra)

    def post(self, path, data=None, headers=None, content_type="application/json", **extra):  # type: ignore[override]
        body = json.dumps(data) if content_type == "application/json" and not isinstance(data, str | bytes) else data
        return super().post(path, body, content_type=content_type, headers=self._headers(headers), **extra)

    def put(self, path, data=None, headers=None, content_type="application/json", **extra):  # type: ignore[override]
        body = json.dumps(data) if not isinstance(data, str | bytes) else data
        return super().put(path, body, content_type=content_type, headers=self._headers(headers), **extra)

    def patch(self, path, data=None, headers=None, content_type="application/json", **extra):  # type: ignore[override]
        body = json.dumps(data) if not isinstance(data, str | bytes) else data
        return super().patch(path, body, content_type=content_type, headers=self._headers(headers), **extra)


@dataclass
class World:
    """One municipality with every kind of actor the role matrix walks."""

    municipality: Any
    team: Any
    other_team: Any
    it_team: Any
    citizen: Any
    other_citizen: Any
    staff_in_team: Any
    staff_out_of_team: Any
    it_staff: Any
    analyst: Any
    relative_with_consent: Any
    relative_without_consent: Any
    device: Any
    device_token: str
    tokens: dict[str, str | None] = field(default_factory=dict)

    def client(self, role: str) -> ApiClient:
        return ApiClient(self.tokens[role])


@pytest.fixture
def world(db) -> World:
    return build_world()


MODULE_WORLD_TOKEN_SECONDS = 6 * 3600


@pytest.fixture(scope="module")
def module_world(django_db_setup, django_db_blocker) -> Iterator[World | None]:
    """On SQLite, one world for a whole module of tests that each undo what they change (``django_db`` without
    ``transaction=True``): built once in a transaction that is rolled back after the module, while each test
    runs in a savepoint inside it, so every test starts from the same world. A module takes it as its
    ``world`` by a fixture of that name returning ``shared_world``.

    On PostgreSQL a transaction held open for a module keeps the rows of every rolled-back test as dead tuples
    that no vacuum may remove, and its thousands of savepoints overflow the backend's subtransaction cache: the
    module's tests grew slower as it went, eating the gain. There each test builds its world, as ``world`` does.
    """
    if connections["default"].vendor != "sqlite":
        yield None
        return
    with django_db_blocker.unblock(), transaction.atomic():
        # Its logins outlast the module however slowly the machine runs it (an access token lives 15 minutes).
        with override_settings(ACCESS_TOKEN_TTL_SECONDS=MODULE_WORLD_TOKEN_SECONDS):
            built = build_world()
        yield built
        transaction.set_rollback(True)


@pytest.fixture
def shared_world(module_world, db) -> World:
    """The module's world for one test: a deep copy, as Django's ``setUpTestData`` gives each test its own
    objects, so that what a test keeps on the world or changes in its objects stays with that test."""
    return build_world() if module_world is None else copy.deepcopy(module_world)


def build_world() -> World:
    municipality = factories.MunicipalityFactory(code="461", name="Odense")
    unit = factories.OrganisationUnitFactory(municipality=municipality, name="Ældre og Handicap")
    team = factories.TeamFactory(unit=unit, name="Rehabilitering Syd")
    other_team = factories.TeamFactory(unit=unit, name="Rehabilitering Nord")
    it_team = factories.TeamFactory(unit=unit, name="Velfærdsteknologi", kind="welfare_technology")
    citizen = factories.CitizenFactory(municipality=municipality)
    other_citizen = factories.CitizenFactory(municipality=municipality)
    factories.CareRelationFactory(citizen=citizen, team=team)
    factories.CareRelationFactory(citizen=other_citizen, team=other_team)

    def staff(team, role):  # type: ignore[no-untyped-def]
        member = factories.StaffFactory(municipality=municipality)
        factories.MembershipFactory(staff=member, team=team, role=role)
        return member

    staff_in_team = staff(team, StaffRole.THERAPIST)
    staff_out_of_team = staff(other_team, StaffRole.THERAPIST)
    it_staff = staff(it_team, StaffRole.IT)
    analyst = staff(team, StaffRole.ANALYST)
    relative_with_consent = factories.RelativeFactory()
    relative_without_consent = factories.RelativeFactory()
    NetworkGrantFactory(citizen=citizen, relative=relative_with_consent)
    device = factories.DeviceFactory(municipality=municipality)
    _, device_token = device_credential_issue(device=device)
    built = World(
        municipality=municipality,
        team=team,
        other_team=other_team,
        it_team=it_team,
        citizen=citizen,
        other_citizen=other_citizen,
        staff_in_team=staff_in_team,
        staff_out_of_team=staff_out_of_team,
        it_staff=it_staff,
        analyst=analyst,
        relative_with_consent=relative_with_consent,
        relative_without_consent=relative_without_consent,
        device=device,
        device_token=device_token,
    )
    staff_audience = AppSession.Audience.STAFF
    built.tokens = {
        "anonymous": None,
        "citizen": access_token_for(citizen.user),
        "other_citizen": access_token_for(other_citizen.user),
        "relative_with_consent": access_token_for(relative_with_consent.user),
        "relative_without_consent": access_token_for(relative_without_consent.user),
        "staff_in_team": access_token_for(staff_in_team.user, staff_audience),
        "staff_out_of_team": access_token_for(staff_out_of_team.user, staff_audience),
        "it": access_token_for(it_staff.user, staff_audience),
        "analyst": access_token_for(analyst.user, staff_audience),
        "device": device_token,
    }
    return built


@pytest.fixture
def anonymous() -> ApiClient:
    return ApiClient()
