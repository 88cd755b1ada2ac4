"""The Effekt pages of the staff app: who may open them, what they show (this year against last, small
cells suppressed, the theory of change with its figures), the downloads, and the aggregate-read log."""

import csv
import io
from datetime import date

import pytest
from django.test import Client
from fhir.resources.R4B.measurereport import MeasureReport

from backend.models import AccessLogEntry, AppSession, StaffRole
from backend.timeutil import municipal_today
from effekt.models import AggregateRead
from effekt.services import theory_of_change_create
from tests import factories as core
from tests.effekt.population import DRESSING, WALKING, WASHING, completed_episode, goal
from tests.staffweb.helpers import web_client

pytestmark = pytest.mark.django_db

THIS_YEAR = municipal_today().year
LAST_YEAR = THIS_YEAR - 1


def team_lead(world):
    lead = core.StaffFactory(municipality=world.municipality)
    core.MembershipFactory(staff=lead, team=world.team, role=StaffRole.TEAM_LEAD)
    return lead


def care_worker(world):
    worker = core.StaffFactory(municipality=world.municipality)
    core.MembershipFactory(staff=worker, team=world.team, role=StaffRole.CARE_WORKER)
    return worker


def _episode(team, year, month=3, **kwargs):
    return completed_episode(
        team,
        start=date(year, month, 2),
        planned_end=date(year, month, 28),
        ended_on=date(year, month, 28),
        **kwargs,
    )


def population(world):
    """Syd: this year 6 citizens walking (improved by 2, GAS +1), 3 dressing (a small cell) and 5 washing
    (hidden beside it, or the 3 could be worked out); last year 5 walking (improved by 1, GAS 0). Nord: 5
    walking each year (no change, GAS −1)."""
    for _ in range(6):
        goal(_episode(world.team, THIS_YEAR), gas=1, level=1, baseline_level=3, rated_on=date(THIS_YEAR, 3, 27))
    for _ in range(3):
        goal(
            _episode(world.team, THIS_YEAR),
            gas=0,
            level=2,
            baseline_level=3,
            condition=DRESSING,
            rated_on=date(THIS_YEAR, 3, 27),
        )
    for _ in range(5):
        goal(
            _episode(world.team, THIS_YEAR),
            gas=0,
            level=2,
            baseline_level=3,
            condition=WASHING,
            rated_on=date(THIS_YEAR, 3, 27),
        )
    for _ in range(5):
        goal(_episode(world.team, LAST_YEAR), gas=0, level=2, baseline_level=3, rated_on=date(LAST_YEAR, 3, 27))
    for year in (LAST_YEAR, THIS_YEAR):
        for _ in range(5):
            goal(_episode(world.other_team, year), gas=-1, level=3, baseline_level=3, rated_on=date(year, 3, 27))


def theory(world, by):
    return theory_of_change_create(
        municipality=world.municipality,
        by=by.user,
        title="Hverdagsrehabilitering i Syd",
        intervention="Korte, målrettede forløb i borgerens hjem",
        activities="Træning efter plan, opfølgning hver uge",
        outputs="Træningssessioner og vurderinger af mål",
        assumptions="Borgeren sætter sine egne mål",
        outcomes=[
            {
                "term": "short",
                "description": "Flere når deres mål",
                "indicator_key": "goal_attainment",
                "measure_key": "share_goals_at_expected",
                "target": 0.7,
            },
            {
                "term": "long",
                "description": "Bedre funktionsevne",
                "indicator_key": "function_change",
                "measure_key": "mean_function_improvement",
            },
        ],
    )


PAGES = [
    "/staff/effekt/",
    "/staff/effekt/indikatorer/function_change/",
    "/staff/effekt/indikatorer/goal_attainment/csv/",
]


@pytest.mark.parametrize("path", PAGES)
def test_only_team_leaders_and_analysts_open_effekt(world, path):
    lead, worker = team_lead(world), care_worker(world)
    made = theory(world, lead)
    paths = [path, f"/staff/effekt/forandringsteorier/{made.pk}/"]
    refused = {
        "therapist": web_client(world.staff_in_team.user),
        "care worker": web_client(worker.user),
        "IT": web_client(world.it_staff.user),
        # A citizen's or relative's user with a staff-app login holds no staff role.
        "citizen": web_client(world.citizen.user),
        "relative": web_client(world.relative_with_consent.user),
    }
    for target in paths:
        for who, client in refused.items():
            response = client.get(target)
            assert response.status_code == 404, (who, target)
            assert "Siden findes ikke" in response.content.decode()
        assert web_client(lead.user).get(target).status_code == 200
        assert web_client(world.analyst.user).get(target).status_code == 200
        # The citizen app's own login opens no staff page: it is sent to the staff login.
        assert web_client(world.citizen.user, audience=AppSession.Audience.CITIZEN).get(target).status_code == 302
        assert Client().get(target).status_code == 302
    assert not AggregateRead.objects.filter(actor_id__in=[worker.user.pk, world.it_staff.user.pk]).exists()


def test_the_navigation_shows_effekt_to_leaders_and_analysts_only(world):
    lead = team_lead(world)
    assert 'href="/staff/effekt/"' in web_client(lead.user).get("/staff/team/").content.decode()
    assert 'href="/staff/effekt/"' not in web_client(world.staff_in_team.user).get("/staff/").content.decode()
    # An analyst's login lands on Effekt, the only page of the app they may open.
    from staffweb.context import home_url

    class Analyst:
        roles = frozenset({StaffRole.ANALYST.value})

    assert home_url(Analyst()) == "/staff/effekt/"  # type: ignore[arg-type]


def test_the_team_leader_sees_this_year_against_last_by_condition_with_small_cells_suppressed(world):
    population(world)
    lead = team_lead(world)
    theory(world, lead)
    response = web_client(lead.user).get("/staff/effekt/")
    body = response.content.decode()
    assert response.status_code == 200
    # The team leader's first view is their own team, against its unit and the municipality.
    assert "selected>– Team: Rehabilitering Syd" in body
    goal_section = body.split('id="indicator-goal_attainment"')[1].split('id="indicator-function_change"')[0]
    assert f'<th scope="colgroup" colspan="5">{LAST_YEAR}</th>' in goal_section
    assert f'<th scope="colgroup" colspan="5">{THIS_YEAR}</th>' in goal_section
    caption = goal_section.split("<caption>")[1].split("</caption>")[0]
    assert caption.startswith("Målopfyldelse: Andel mål på eller over forventet niveau (GAS ≥ 0) og de øvrige tal, ")
    syd_row = goal_section.split('<th scope="row">Rehabilitering Syd</th>')[1].split("</tr>")[0]
    # Last year 5 citizens at GAS 0 (all at the expected level); this year 14 (6 at +1, 8 at 0).
    assert "<td>5</td>" in syd_row and "<td>100 %</td>" in syd_row and "<td>14</td>" in syd_row

    function_section = body.split('id="indicator-function_change"')[1].split('id="theories-heading"')[0]
    walking = function_section.split('<th scope="row">Gå</th>')[1].split("</tr>")[0]
    dressing = function_section.split('<th scope="row">Tage tøj på</th>')[1].split("</tr>")[0]
    assert "<td>6</td>" in walking and "<td>2</td>" in walking  # 6 citizens this year, improved by 2
    assert "<td>5</td>" in walking and "<td>1</td>" in walking  # 5 last year, improved by 1
    washing = function_section.split('<th scope="row">Vaske sig</th>')[1].split("</tr>")[0]
    assert "Skjult" in dressing and "<td>3</td>" not in dressing  # 3 citizens: suppressed
    assert "Skjult" in washing and "<td>5</td>" not in washing  # hidden beside it (complementary)
    assert "skjult" in function_section.split("</svg>")[0]  # the chart marks the hidden cell too
    # The theory of change beside it, with the current figure on each outcome.
    theories = body.split('id="theories-heading"')[1]
    assert "Hverdagsrehabilitering i Syd" in theories and "Flere når deres mål" in theories
    assert "Bedre funktionsevne" in theories
    # No citizen's name reaches the page.
    for episode in _episodes(world):
        assert episode.citizen.full_name not in body


def test_a_filter_outside_the_choices_is_refused_in_danish_and_nothing_is_read(world):
    lead = team_lead(world)
    elsewhere = core.TeamFactory()
    response = web_client(lead.user).get("/staff/effekt/", {"year": THIS_YEAR, "area": f"team:{elsewhere.pk}"})
    assert response.status_code == 422
    assert "Der er fejl i formularen" in response.content.decode()
    assert not AggregateRead.objects.exists()
    assert web_client(lead.user).get("/staff/effekt/", {"year": "1999"}).status_code == 422
    assert web_client(lead.user).get("/staff/effekt/indikatorer/nope/").status_code == 404


def test_the_analyst_downloads_csv_and_a_valid_measure_report_of_aggregates_only(world):
    population(world)
    client = web_client(world.analyst.user)
    query = {"year": THIS_YEAR, "area": f"unit:{world.team.unit_id}"}
    response = client.get("/staff/effekt/indikatorer/function_change/csv/", query)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    syd_dressing = next(
        row for row in rows if row["name"] == "Rehabilitering Syd" and row["group_name"] == "Tage tøj på"
    )
    assert syd_dressing["suppressed"] == "1" and syd_dressing["citizens"] == ""
    report = client.get("/staff/effekt/indikatorer/goal_attainment/measurereport/", query)
    assert report.status_code == 200 and report["Content-Type"].startswith("application/fhir+json")
    MeasureReport.model_validate(report.json())
    assert report.json()["period"] == {"start": f"{THIS_YEAR}-01-01", "end": f"{THIS_YEAR}-12-31"}
    body = client.get("/staff/effekt/", query).content.decode()
    assert not AccessLogEntry.objects.exists()  # no citizen's data was read
    for citizen in {episode.citizen for episode in _episodes(world)}:
        assert citizen.full_name not in body and citizen.full_name not in response.content.decode()


def _episodes(world):
    from selvbetjening.models import Episode

    return Episode.objects.filter(team__in=[world.team, world.other_team]).select_related("citizen")


def test_the_theory_page_shows_the_chain_with_its_figures(world):
    population(world)
    lead = team_lead(world)
    made = theory(world, lead)
    body = web_client(world.analyst.user).get(f"/staff/effekt/forandringsteorier/{made.pk}/").content.decode()
    for text in (
        "Indsats",
        "Aktiviteter",
        "Leverancer",
        "Resultater",
        "Korte, målrettede forløb",
        "Flere når deres mål",
    ):
        assert text in body
    row = body.split('<th scope="row">Flere når deres mål</th>')[1].split("</tr>")[0]
    # The municipality this year: 19 goals followed up, 14 at or above the expected level (74 %); target 70 %.
    assert "<td>74 %</td>" in row and "<td>70 %</td>" in row
    other = core.TeamFactory()
    stranger = core.StaffFactory(municipality=other.unit.municipality)
    core.MembershipFactory(staff=stranger, team=other, role=StaffRole.ANALYST)
    assert web_client(stranger.user).get(f"/staff/effekt/forandringsteorier/{made.pk}/").status_code == 404


# --- The aggregate-read log ----------------------------------------------------------------------


def test_every_indicator_query_is_logged_as_an_aggregate_read(world):
    population(world)
    lead = team_lead(world)
    client = web_client(lead.user)
    client.get("/staff/effekt/indikatorer/goal_attainment/", {"year": THIS_YEAR, "condition": str(WALKING[0])})
    reads = list(AggregateRead.objects.order_by("id"))
    # The year against the year before, then the two years month by month.
    assert [(read.surface, read.indicator_key, read.period_start.year) for read in reads] == [
        ("page", "goal_attainment", THIS_YEAR),
        ("page", "goal_attainment", LAST_YEAR),
        ("page", "goal_attainment", LAST_YEAR),
        ("page", "goal_attainment", THIS_YEAR),
    ]
    first = reads[0]
    assert (first.actor_id, first.actor_name, first.actor_role, first.purpose) == (
        lead.user.pk,
        lead.user.display_name,
        "team_lead",
        "follow_up",
    )
    assert first.filters == {"condition": str(WALKING[0])}
    assert first.municipality_id == world.municipality.pk

    client.get("/staff/effekt/indikatorer/goal_attainment/csv/", {"year": THIS_YEAR})
    client.get("/staff/effekt/indikatorer/goal_attainment/measurereport/", {"year": THIS_YEAR})
    api = world.client("analyst")
    api.get("/api/v1/indicators/goal_attainment", {"from": f"{THIS_YEAR}-01-01", "to": f"{THIS_YEAR}-12-31"})
    api.get("/api/v1/indicators/function_change/csv")
    api.get("/api/v1/indicators/function_change/measure-report", {"breakdown": "team"})
    surfaces = list(AggregateRead.objects.order_by("id").values_list("surface", "actor_role")[4:])
    assert surfaces == [
        ("csv", "team_lead"),
        ("measure_report", "team_lead"),
        ("api", "analyst"),
        ("csv", "analyst"),
        ("measure_report", "analyst"),
    ]
    assert AggregateRead.objects.order_by("id").last().filters == {"breakdown": "team"}


def test_a_refused_indicator_query_is_not_logged(world):
    elsewhere = core.TeamFactory()
    response = world.client("analyst").get("/api/v1/indicators/goal_attainment", {"team": str(elsewhere.pk)})
    assert response.status_code == 404
    assert world.client("staff_in_team").get("/api/v1/indicators/goal_attainment").status_code == 403
    assert not AggregateRead.objects.exists()


def test_the_aggregate_read_log_is_append_only_and_listed_in_the_admin(world, admin_client):
    world.client("analyst").get("/api/v1/indicators/goal_attainment")
    read = AggregateRead.objects.get()
    with pytest.raises(PermissionError):
        read.save()
    with pytest.raises(PermissionError):
        read.delete()
    response = admin_client.get("/admin/effekt/aggregateread/")
    assert response.status_code == 200
    assert world.analyst.user.display_name in response.content.decode()
