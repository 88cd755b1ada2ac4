"""Access is declared once (``backend.access.declaration``): the ORM filters, the hand-written statements
(the API's token lookup, the websocket hub's checks, the caseload) and the database triggers that end held
websocket checks all follow it, and a system check notices a database whose triggers do not."""

from dataclasses import replace
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from backend.access import access_care_team, citizens_visible_to, triggers
from backend.access.declaration import declaration_replaced, declared
from backend.access.rules import Moments, equals, in_force
from backend.actors import Actor
from backend.auth import actor_for_access_token
from backend.checks import check_access_triggers
from backend.errors import NotFound
from backend.models import AppSession, Citizen, Membership, StaffRole, Token, User
from backend.tokens import hash_secret
from notifications import stream_checks
from selvbetjening.selectors import caseload
from tests import factories
from tests.selvbetjening.factories import EpisodeFactory
from tests.selvbetjening.training_factories import make_plan

pytestmark = pytest.mark.django_db


def _actor(user: User) -> Actor:
    return Actor(user=user, audience=AppSession.Audience.STAFF)


def _token(world, role: str) -> str:
    return world.tokens[role]


def _hub_teams(world, role: str) -> set[str]:
    """The teams the websocket hub's statement lets this login follow, of the one asked about."""
    token_hash = hash_secret(_token(world, role))
    found = stream_checks.access_checks({token_hash: [str(world.team.pk)]})
    return found[token_hash].team_ids if token_hash in found else set()


def _visible(world, staff) -> bool:
    return citizens_visible_to(_actor(staff.user)).filter(pk=world.citizen.pk).exists()


def _with_care_role(role: str):
    declaration = declared()
    return declaration_replaced(replace(declaration, care_roles=declaration.care_roles | {role}))


def test_adding_a_care_role_gives_that_role_care_access_on_every_path(world):
    analyst = world.analyst  # a member of the citizen's care team, as analyst
    assert not _visible(world, analyst)
    assert _hub_teams(world, "analyst") == set()
    with pytest.raises(NotFound):
        access_care_team(_actor(analyst.user), world.team.pk)

    with _with_care_role(StaffRole.ANALYST.value):
        assert _visible(world, analyst)  # the ORM path
        assert _hub_teams(world, "analyst") == {str(world.team.pk)}  # the websocket hub's statement
        assert access_care_team(_actor(analyst.user), world.team.pk) == world.team  # loaded memberships
        assert world.team.pk in _actor(analyst.user).care_team_ids()

    assert not _visible(world, analyst)
    assert _hub_teams(world, "analyst") == set()


def test_the_same_membership_ends_on_every_path_the_day_after_its_last_day(world):
    membership = Membership.objects.get(staff=world.staff_in_team, team=world.team)
    Membership.objects.filter(pk=membership.pk).update(valid_to=timezone.localdate() - timedelta(days=2))
    assert not _visible(world, world.staff_in_team)
    assert _hub_teams(world, "staff_in_team") == set()
    assert not declared().care_membership.holds(Membership.objects.get(pk=membership.pk))


def test_a_changed_login_rule_is_obeyed_by_the_token_lookup_and_the_hub_alike(world):
    """A rule added to the user's (here: demo users may not log in) refuses their tokens on the API's lookup
    and in the websocket hub's statement at once."""
    User.objects.filter(pk=world.staff_in_team.user.pk).update(is_demo=True)
    token = _token(world, "staff_in_team")
    assert actor_for_access_token(token) is not None
    stricter = replace(declared(), user=declared().user.with_conditions(equals("is_demo", False)))
    with declaration_replaced(stricter):
        assert actor_for_access_token(token) is None
        assert hash_secret(token) not in stream_checks.access_checks({hash_secret(token): []})
        assert actor_for_access_token(_token(world, "citizen")) is not None
    assert actor_for_access_token(token) is not None


def test_a_changed_care_relation_rule_is_obeyed_by_the_caseload_statement(world):
    """The caseload's hand-written statement takes its care-relation condition from the declaration."""
    make_plan(episode=EpisodeFactory(citizen=world.citizen, team=world.team))
    page = caseload.team_caseload(world.team, sort="name", cursor=None, limit=50)
    assert [row.citizen.pk for row in page.rows] == [world.citizen.pk]
    closed = replace(
        declared(),
        care_relation=declared().care_relation.with_conditions(equals("purpose", "no_such_purpose")),
    )
    with declaration_replaced(closed):
        assert caseload.team_caseload(world.team, sort="name", cursor=None, limit=50).rows == []
        assert not _visible(world, world.staff_in_team)


def test_the_installed_triggers_are_the_declarations(world):
    assert triggers.differences(connection) == []
    watched = {entry.table: entry for entry in triggers.watched_tables()}
    assert set(watched) == {
        Token._meta.db_table,
        AppSession._meta.db_table,
        User._meta.db_table,
        "backend_staff",
        Membership._meta.db_table,
    }
    assert watched[Token._meta.db_table].columns == ("expires_at", "kind", "session_id", "token_hash")
    assert watched[AppSession._meta.db_table].columns == ("audience", "expires_at", "revoked_at", "user_id")
    assert watched[User._meta.db_table].columns == ("is_active",)
    assert watched[Membership._meta.db_table].columns == ("role", "staff_id", "team_id", "valid_from", "valid_to")
    assert watched[Membership._meta.db_table].insert_raises
    assert not watched[Token._meta.db_table].insert_raises


@pytest.mark.django_db(transaction=True)
def test_a_changed_declaration_changes_the_triggers_and_the_check_says_so_until_installed(world):
    stricter = replace(declared(), user=declared().user.with_conditions(equals("is_demo", False)))
    user = world.staff_in_team.user
    try:
        with declaration_replaced(stricter):
            assert any("is_demo" in problem for problem in triggers.differences(connection))
            errors = check_access_triggers(None, databases=["default"])
            assert [error.id for error in errors] == ["mestring.E002"]
            assert triggers.synchronise(connection) is True
            assert triggers.differences(connection) == []
            assert check_access_triggers(None, databases=["default"]) == []
            before = stream_checks.access_version()
            User.objects.filter(pk=user.pk).update(is_demo=True)
            assert stream_checks.access_version() != before
        assert triggers.differences(connection) != []
    finally:
        triggers.synchronise(connection)
    assert triggers.differences(connection) == []
    before = stream_checks.access_version()
    User.objects.filter(pk=user.pk).update(is_demo=False)
    assert stream_checks.access_version() == before


@pytest.mark.django_db(transaction=True)
def test_a_missing_trigger_fails_the_system_check_and_migrate_puts_it_back(world):
    from django.core.management import call_command

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("DROP TRIGGER backend_user_access_changed_update ON backend_user")
        else:
            cursor.execute("DROP TRIGGER backend_user_access_changed_update")
    errors = check_access_triggers(None, databases=["default"])
    assert [error.id for error in errors] == ["mestring.E002"]
    assert "missing trigger backend_user_access_changed_update" in errors[0].msg
    call_command("migrate", verbosity=0)
    assert check_access_triggers(None, databases=["default"]) == []


def test_rules_read_the_same_in_python_sql_and_the_orm(world):
    """One rule, three readings: the rows the ORM filter finds are those the SQL fragment finds and those
    ``holds`` accepts, on every boundary of a period."""
    today = timezone.localdate()
    rule = replace(declared().membership, conditions=in_force())
    staff = factories.StaffFactory(municipality=world.municipality)
    periods = [
        (today, None), (today + timedelta(days=1), None), (today - timedelta(days=5), today),
        (today - timedelta(days=5), today - timedelta(days=1)), (today - timedelta(days=5), today + timedelta(days=3)),
    ]  # fmt: skip
    made = [
        factories.MembershipFactory(staff=staff, team=factories.TeamFactory(unit=world.team.unit), valid_from=start,
                                    valid_to=end, role=StaffRole.CARE_WORKER)
        for start, end in periods
    ]  # fmt: skip
    moments = Moments(today=today)
    by_orm = set(Membership.objects.filter(rule.q(moments=moments), staff=staff).values_list("pk", flat=True))
    by_python = {membership.pk for membership in made if rule.holds(membership, moments)}
    table = connection.ops.quote_name(Membership._meta.db_table)
    staff_column = rule.column("staff")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT m.{rule.column('id')} FROM {table} m WHERE {rule.sql('m')} AND m.{staff_column} = %s",  # noqa: S608
            [*rule.sql_params(moments), Membership._meta.get_field("staff").get_db_prep_value(staff.pk, connection)],
        )
        by_sql = {Membership._meta.pk.to_python(row[0]) for row in cursor.fetchall()}
    assert by_orm == by_python == by_sql == {made[0].pk, made[2].pk, made[4].pk}
    assert Citizen.objects.exists()
