"""Heavy reads on a real PostgreSQL streaming replica (`.ci/services start-replica`, TEST_REPLICA_URL), and
back on the primary when the replica is down, lagging, or the read is in a transaction."""

import os
import time
from urllib.parse import urlparse

import psycopg
import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from backend import replica
from backend.models import Citizen
from selvbetjening.selectors.caseload import team_caseload
from tests import factories

REPLICA_URL = os.environ.get("TEST_REPLICA_URL", "")
WAIT_SECONDS = 60

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql" or not REPLICA_URL, reason="needs PostgreSQL with a replica (TEST_REPLICA_URL)"
)


@replica.reads_from_replica
def citizens_read() -> list[tuple[str, str]]:
    return [(citizen.family_name, citizen._state.db) for citizen in Citizen.objects.order_by("family_name")]


def add_replica_alias(port: int | None = None) -> None:
    url = urlparse(REPLICA_URL)
    settings_dict = {**connections[DEFAULT_DB_ALIAS].settings_dict, "HOST": url.hostname, "PORT": port or url.port}
    settings_dict["OPTIONS"] = {**settings_dict["OPTIONS"], "connect_timeout": 2}
    connections.settings[replica.REPLICA] = settings_dict
    # The test case refuses connections to aliases it was not declared with; declaring this one would have
    # it flushed after every test, which a standby refuses. It connects as Django's own ensure_connection.
    wrapper = connections[replica.REPLICA]

    def ensure_connection() -> None:
        if wrapper.connection is None:
            with wrapper.wrap_database_errors:
                wrapper.connect()

    wrapper.ensure_connection = ensure_connection  # type: ignore[method-assign]


def remove_replica_alias() -> None:
    if replica.REPLICA in connections.settings:
        connections[replica.REPLICA].close()
        del connections[replica.REPLICA]
        del connections.settings[replica.REPLICA]
    replica.forget_health()


def superuser_on_replica() -> psycopg.Connection:
    url = urlparse(REPLICA_URL)
    return psycopg.connect(
        host=url.hostname, port=url.port, user="postgres", dbname=connection.settings_dict["NAME"], autocommit=True
    )


def wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {WAIT_SECONDS} s for {what}")
        time.sleep(0.1)


@pytest.fixture
def on_replica(transactional_db, settings):
    settings.DATABASE_REPLICA_MAX_LAG_SECONDS = 5
    settings.DATABASE_REPLICA_CHECK_SECONDS = 0
    add_replica_alias()
    yield
    remove_replica_alias()


def replica_has(family_name: str) -> bool:
    with connections[replica.REPLICA].cursor() as cursor:
        cursor.execute("SELECT 1 FROM backend_citizen WHERE family_name = %s", [family_name])
        return cursor.fetchone() is not None


def test_heavy_reads_go_to_the_replica_once_it_has_the_rows(on_replica):
    factories.CitizenFactory(family_name="Aagaard")
    wait_for(lambda: replica_has("Aagaard"), "the replica to replay the citizen")
    assert replica.health().usable
    assert citizens_read() == [("Aagaard", replica.REPLICA)]
    # Unmarked reads and the writes stay on the primary.
    assert Citizen.objects.get(family_name="Aagaard")._state.db == DEFAULT_DB_ALIAS


def test_the_caseload_statement_runs_on_the_replica(on_replica):
    team = factories.TeamFactory()
    wait_for(lambda: replica.health().usable, "the replica to stream")
    with CaptureQueriesContext(connections[replica.REPLICA]) as on_replica_queries:
        page = team_caseload(team)
    assert page.rows == []
    assert any("FROM" in query["sql"] for query in on_replica_queries.captured_queries)


def test_a_read_in_a_transaction_on_the_primary_stays_there(on_replica):
    with transaction.atomic():
        factories.CitizenFactory(family_name="Bech")
        assert citizens_read() == [("Bech", DEFAULT_DB_ALIAS)]


def test_a_replica_that_is_down_sends_the_reads_to_the_primary(transactional_db, settings):
    settings.DATABASE_REPLICA_CHECK_SECONDS = 0
    with socket_nobody_listens_on() as port:
        add_replica_alias(port)
        try:
            factories.CitizenFactory(family_name="Carlsen")
            assert citizens_read() == [("Carlsen", DEFAULT_DB_ALIAS)]
            assert replica.health().reason.startswith("down")
        finally:
            remove_replica_alias()


def test_a_read_that_fails_on_the_replica_is_answered_by_the_primary(on_replica, settings):
    factories.CitizenFactory(family_name="Dahl")
    wait_for(lambda: replica_has("Dahl"), "the replica to replay the citizen")
    settings.DATABASE_REPLICA_CHECK_SECONDS = 3600
    assert replica.health().usable
    with connections[replica.REPLICA].cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    with superuser_on_replica() as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])

    assert citizens_read() == [("Dahl", DEFAULT_DB_ALIAS)]
    assert not replica.health().usable


def test_a_replica_lagging_past_the_limit_sends_the_reads_to_the_primary(on_replica, settings):
    settings.DATABASE_REPLICA_MAX_LAG_SECONDS = 0.5
    factories.CitizenFactory(family_name="Eskildsen")
    wait_for(lambda: replica_has("Eskildsen"), "the replica to replay the citizen")
    with superuser_on_replica() as admin:
        admin.execute("SELECT pg_wal_replay_pause()")
        try:
            factories.CitizenFactory(family_name="Friis")
            wait_for(lambda: replica.check().reason.endswith("behind"), "the replica to fall behind")
            assert not replica.health().usable
            assert citizens_read() == [("Eskildsen", DEFAULT_DB_ALIAS), ("Friis", DEFAULT_DB_ALIAS)]
        finally:
            admin.execute("SELECT pg_wal_replay_resume()")
    wait_for(lambda: replica.check().usable, "the replica to catch up")
    assert citizens_read() == [("Eskildsen", replica.REPLICA), ("Friis", replica.REPLICA)]


def test_nothing_is_migrated_on_the_replica():
    router = replica.ReplicaRouter()
    assert router.allow_migrate(replica.REPLICA, "backend") is False
    assert router.allow_migrate(DEFAULT_DB_ALIAS, "backend") is True
    assert router.db_for_write(Citizen) == DEFAULT_DB_ALIAS


class socket_nobody_listens_on:
    """A loopback port that was free a moment ago: a connection to it is refused, as to a stopped server."""

    def __enter__(self) -> int:
        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            return probe.getsockname()[1]

    def __exit__(self, *exc: object) -> None:
        return None
