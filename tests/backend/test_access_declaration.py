"""Access is declared once (``backend.access.declaration``): the ORM filters, the hand-written statements
(the API's token lookup, the websocket hub's checks, the caseload) and the database triggers that end held
websocket checks all follow it, and a system check notices a database whose triggers do not."""

from dataclasses import replace
from datetime import timedelta

import pyotp
import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.utils import timezone

from backend import audit, web_sessions
from backend.access import access_care_team, citizens_visible_to, triggers
from backend.access.declaration import Role, declaration_replaced, declared
from backend.access.rules import Moments, Rule, equals, in_force
from backend.actors import ANY_USER, CARE, STAFF_ROLES, Actor
from backend.auth import actor_for_access_token
from backend.checks import check_access_triggers
from backend.errors import NotAuthenticated, NotFound
from backend.models import AccessLogEntry, AppSession, Citizen, Membership, StaffRole, Token, User
from backend.services.identity import ClientInfo, session_start, tokens_refresh
from backend.tokens import hash_secret
from notifications import stream_checks
from selvbetjening.selectors import caseload
from tests import factories
from tests.borgerapp.helpers import app_client
from tests.conftest import ApiClient, access_token_for
from tests.selvbetjening.factories import EpisodeFactory
from tests.selvbetjening.training_factories import make_plan
from tests.staffweb.helpers import web_client

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
    roles = tuple(replace(known, care=True) if known.name == role else known for known in declaration.roles)
    return declaration_replaced(replace(declaration, roles=roles))


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


# --- One changed declaration, every path --------------------------------------------------------------

NURSE = "nurse"
PASSWORD = "a-long-demo-password"


def _with_nurses():
    """The declaration with one more care role, placed before the analyst's and logged for care."""
    declaration = declared()
    nurse = Role(NURSE, AccessLogEntry.Purpose.CARE.value, care=True)
    at = [role.name for role in declaration.roles].index(StaffRole.ANALYST.value)
    return declaration_replaced(replace(declaration, roles=(*declaration.roles[:at], nurse, *declaration.roles[at:])))


def test_a_new_care_role_is_followed_by_the_gates_the_sql_the_hub_the_triggers_and_the_access_log(world):
    """A nurse (a role the code has never heard of) who is also the team's analyst: one changed declaration
    lets the nurse through the API's and the staff pages' care gates, into the caseload statement's team
    and the websocket hub's, and the access log names the read as the nurse's, for care."""
    nurse = factories.StaffFactory(municipality=world.municipality)
    factories.MembershipFactory(staff=nurse, team=world.team, role=NURSE)
    factories.MembershipFactory(staff=nurse, team=world.team, role=StaffRole.ANALYST)
    make_plan(episode=EpisodeFactory(citizen=world.citizen, team=world.team))
    world.tokens[NURSE] = access_token_for(nurse.user, AppSession.Audience.STAFF)
    api = world.client(NURSE)
    browser = web_client(nurse.user)
    caseload_url = f"/api/v1/teams/{world.team.pk}/caseload"
    assert api.get(caseload_url).status_code == 403  # UserBearer(roles=CARE)
    assert api.get(f"/api/v1/citizens/{world.citizen.pk}").status_code == 403
    assert browser.get("/staff/").status_code == 404  # staff_page(CARE)
    assert not _visible(world, nurse) and _hub_teams(world, NURSE) == set()
    assert _actor(nurse.user).audit_role == StaffRole.ANALYST.value

    with _with_nurses():
        assert _visible(world, nurse)  # the ORM path
        assert _hub_teams(world, NURSE) == {str(world.team.pk)}  # the websocket hub's statement
        response = api.get(caseload_url)  # the care gate, the care team and the caseload statement
        assert response.status_code == 200, response.content
        assert [item["citizen_id"] for item in response.json()["items"]] == [str(world.citizen.pk)]
        logged = AccessLogEntry.objects.get(actor_id=nurse.user.pk, resource_type="training_caseload")
        assert (logged.citizen_id, logged.actor_role, logged.purpose) == (world.citizen.pk, NURSE, "care")
        assert api.get(f"/api/v1/citizens/{world.citizen.pk}").status_code == 200
        assert browser.get("/staff/").status_code == 200
        # The triggers already watch the role column: the database's are still the declaration's, and a
        # nurse's membership changing role ends the hub's held checks.
        assert triggers.differences(connection) == []
        before = stream_checks.access_version()
        Membership.objects.filter(staff=nurse, role=NURSE).update(role=StaffRole.CARE_WORKER)
        assert stream_checks.access_version() != before
        Membership.objects.filter(staff=nurse, role=StaffRole.CARE_WORKER).update(role=NURSE)

    assert api.get(caseload_url).status_code == 403
    assert browser.get("/staff/").status_code == 404
    assert not _visible(world, nurse) and _hub_teams(world, NURSE) == set()


def test_the_access_log_names_roles_and_purposes_in_the_declared_order(world):
    """Who a request is logged as, and why, are the declaration's: reordering its roles changes the role, and
    changing a role's purpose changes the purpose."""
    team_lead = factories.StaffFactory(municipality=world.municipality)
    for role in (StaffRole.ANALYST, StaffRole.TEAM_LEAD):
        factories.MembershipFactory(staff=team_lead, team=world.team, role=role)
    actor = _actor(team_lead.user)
    assert actor.audit_role == StaffRole.TEAM_LEAD.value and audit.purpose_of(actor.audit_role) == "follow_up"
    declaration = declared()
    analyst_first = sorted(declaration.roles, key=lambda role: role.name != StaffRole.ANALYST.value)
    with declaration_replaced(replace(declaration, roles=tuple(analyst_first))):
        assert _actor(team_lead.user).audit_role == StaffRole.ANALYST.value
    leads_for_care = tuple(
        replace(role, purpose="care") if role.name == StaffRole.TEAM_LEAD.value else role for role in declaration.roles
    )
    with declaration_replaced(replace(declaration, roles=leads_for_care)):
        audit.read_logged(actor, [world.citizen], "citizen")
        assert audit.DEFAULT_PURPOSE[StaffRole.TEAM_LEAD.value] == "care"
    entry = AccessLogEntry.objects.get(actor_id=team_lead.user.pk)
    assert (entry.actor_role, entry.purpose) == (StaffRole.TEAM_LEAD.value, "care")
    citizen_login = Actor(user=world.citizen.user, audience=AppSession.Audience.CITIZEN)
    assert citizen_login.audit_role == "citizen" and audit.purpose_of("citizen") == "own_use"


def test_a_new_validity_condition_ends_cookie_logins_bearer_tokens_and_refreshes_alike(world):
    """A condition added to the declaration's user rule (demo users may not log in) ends the staff web's and
    the citizen app's cookie logins, the API's bearer tokens, the socket a page opens and a refresh."""
    staff_user, citizen_user = world.staff_in_team.user, world.citizen.user
    staff_user.set_password(PASSWORD)
    staff_user.totp_secret = pyotp.random_base32()
    staff_user.save()
    staff_browser, app_browser = web_client(staff_user), app_client(citizen_user)
    pair = session_start(user=citizen_user, audience=AppSession.Audience.CITIZEN, client=ClientInfo("127.0.0.1", "t"))
    bearer = ApiClient(_token(world, "staff_in_team"))
    assert staff_browser.get("/staff/").status_code == 200
    assert app_browser.get("/api/v1/me").status_code == 200
    assert bearer.get(f"/api/v1/citizens/{world.citizen.pk}").status_code == 200
    User.objects.filter(pk__in=[staff_user.pk, citizen_user.pk]).update(is_demo=True)
    stricter = replace(declared(), user=declared().user.with_conditions(equals("is_demo", False)))
    with declaration_replaced(stricter):
        assert web_sessions.socket_token_hash(staff_browser.cookies[settings.SESSION_COOKIE_NAME].value) is None
        assert bearer.get(f"/api/v1/citizens/{world.citizen.pk}").status_code == 401
        assert staff_browser.get("/staff/").status_code == 302  # to the login
        assert app_browser.get("/api/v1/me").status_code == 401
        with pytest.raises(NotAuthenticated) as refused:
            tokens_refresh(refresh_token=pair.refresh_token, client=ClientInfo("127.0.0.1", "t"))
        assert refused.value.code == "session_revoked"
        code = pyotp.TOTP(staff_user.totp_secret).now()
        login = {"username": staff_user.username, "password": PASSWORD, "totp_code": code, "next": ""}
        assert Client().post("/staff/log-ind/", login).status_code == 200  # the form again: no new login
        assert not AppSession.objects.filter(user=staff_user, acr="password+totp").exists()
    # The cookie logins were signed out by the refusal; the bearer token was only refused.
    assert bearer.get(f"/api/v1/citizens/{world.citizen.pk}").status_code == 200
    assert staff_browser.get("/staff/").status_code == 302


def test_which_logins_act_in_teams_is_declared_once(world):
    """Changing which logins act in teams (here: none) takes the teams from the websocket hub's statement,
    the API's actor and a staff page's login at once."""
    staff_login = Rule(AppSession, (equals("audience", "no_such_audience"),), watched=True)
    browser = web_client(world.staff_in_team.user)
    assert _hub_teams(world, "staff_in_team") == {str(world.team.pk)}
    assert browser.get("/staff/").status_code == 200
    with declaration_replaced(replace(declared(), team_login=staff_login)):
        assert _hub_teams(world, "staff_in_team") == set()
        actor = actor_for_access_token(_token(world, "staff_in_team"))
        assert actor is not None and actor.staff is None and actor.memberships == []
        assert ApiClient(_token(world, "staff_in_team")).get(f"/api/v1/citizens/{world.citizen.pk}").status_code == 403
        assert browser.get("/staff/").status_code == 404
    citizen = actor_for_access_token(_token(world, "citizen"))
    assert citizen is not None and citizen.staff is None and not citizen.acts_in_teams


def test_a_grant_in_force_is_declared_once(world):
    """The relative's access, the citizen's and the staff pages' view of the grant, and the FHIR export's
    consent all judge a grant by the declaration's rule."""
    from effekt.fhir import _grant_consent
    from selvbetjening.models import NetworkGrant
    from selvbetjening.presenters import care
    from selvbetjening.selectors import network
    from staffweb.present import network_lines

    relative = Actor(user=world.relative_with_consent.user, audience=AppSession.Audience.CITIZEN)
    grant = NetworkGrant.objects.select_related("relative__user").get(relative=world.relative_with_consent)
    now = timezone.now()

    def judged() -> tuple:
        return (
            set(network.citizens_granted_to(relative, network.VIEW_PROGRESS).values_list("pk", flat=True)),
            care.grant(grant)["is_in_force"],
            network_lines([grant], now)[0].state,
            _grant_consent(grant, "Patient/1", now)["status"],
        )

    assert judged() == ({world.citizen.pk}, True, "Aktiv", "active")
    assert care.grant(grant)["scopes"] == list(declared().grants.scopes)
    grants = declared().grants
    closed = replace(grants, conditions=(*grants.conditions, equals("label", "no such label")))
    with declaration_replaced(replace(declared(), grants=closed)):
        assert judged() == (set(), False, "Udløbet", "inactive")
    fewer = replace(grants, scopes=grants.scopes[1:])
    with declaration_replaced(replace(declared(), grants=fewer)):
        assert care.grant(grant)["scopes"] == list(fewer.scopes)
        with pytest.raises(ValueError):
            network.citizens_granted_to(relative, network.VIEW_PROGRESS)


def test_a_grant_reads_the_same_in_python_sql_and_the_orm(world):
    """The grant rule's open-ended expiry, on its boundary, in its three readings."""
    from selvbetjening.models import NetworkGrant
    from tests.selvbetjening.factories import NetworkGrantFactory

    now = timezone.now()
    moments = Moments(now=now)
    ends = [None, now, now - timedelta(seconds=1), now + timedelta(seconds=1)]
    made = [NetworkGrantFactory(citizen=world.other_citizen, valid_until=end) for end in ends]
    revoked = NetworkGrantFactory(citizen=world.other_citizen, revoked_at=now - timedelta(days=1))
    rule = declared().grants.rule(NetworkGrant)
    mine = {grant.pk for grant in [*made, revoked]}
    by_orm = set(NetworkGrant.objects.filter(rule.q(moments=moments), pk__in=mine).values_list("pk", flat=True))
    by_python = {grant.pk for grant in [*made, revoked] if rule.holds(grant, moments)}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT g.{rule.column('id')}, g.{rule.column('citizen')} FROM {connection.ops.quote_name(rule.table)} g "  # noqa: S608
            f"WHERE {rule.sql('g')}",
            rule.sql_params(moments),
        )
        by_sql = {NetworkGrant._meta.pk.to_python(row[0]) for row in cursor.fetchall()} & mine
    assert by_orm == by_python == by_sql == {made[0].pk, made[3].pk}


def test_a_login_that_acts_in_no_team_reads_the_same_in_python_sql_and_the_orm(world):
    rule = declared().team_login
    sessions = [
        session_start(user=world.staff_in_team.user, audience=audience, client=ClientInfo("127.0.0.1", "t")).session
        for audience in (AppSession.Audience.STAFF, AppSession.Audience.CITIZEN)
    ]
    ids = [session.pk for session in sessions]
    by_orm = set(AppSession.objects.filter(rule.q(), pk__in=ids).values_list("pk", flat=True))
    by_python = {session.pk for session in sessions if declared().acts_in_teams(session)}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT s.{rule.column('id')} FROM {connection.ops.quote_name(rule.table)} s WHERE {rule.sql('s')}",  # noqa: S608
            rule.sql_params(),
        )
        by_sql = {AppSession._meta.pk.to_python(row[0]) for row in cursor.fetchall()} & set(ids)
    assert by_orm == by_python == by_sql == {sessions[0].pk}


def test_a_database_the_triggers_are_not_written_for_fails_the_check(world, monkeypatch):
    monkeypatch.setattr(connection, "vendor", "mysql")
    errors = check_access_triggers(None, databases=["default"])
    assert [error.id for error in errors] == ["mestring.E003"]
    assert "written for PostgreSQL and SQLite" in errors[0].msg


def test_a_database_not_yet_there_is_left_to_migrate(world, monkeypatch):
    from django.db import OperationalError

    from backend import checks

    def unreachable(connection):
        raise OperationalError("connection refused")

    monkeypatch.setattr(checks, "_fully_migrated", unreachable)
    assert check_access_triggers(None, databases=["default"]) == []


def test_the_role_sets_of_the_gates_are_those_of_the_declaration_in_force():
    """``CARE``, ``STAFF_ROLES`` and ``ANY_USER`` are made once, at import, and answer for the declaration in
    force whichever side of an operator they stand on."""
    assert NURSE not in CARE and not frozenset({NURSE}) & CARE
    with _with_nurses():
        assert NURSE in CARE and NURSE in STAFF_ROLES and NURSE in ANY_USER
        assert frozenset({NURSE, StaffRole.IT.value}) & CARE == {NURSE} == CARE & frozenset({NURSE})
        assert sorted(CARE) == sorted({NURSE, *declared().care_roles}) and len(CARE) == 4
        assert frozenset({StaffRole.IT.value}) | CARE == {StaffRole.IT.value, *CARE.now()}
    assert NURSE not in CARE and NURSE not in ANY_USER and len(CARE) == 3
