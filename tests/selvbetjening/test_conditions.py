"""The municipality's FSIII condition code list: loaded from its CSV file all or nothing, and once it holds
conditions the API takes only a goal whose condition is on it."""

import uuid

import pytest
from django.core.management import CommandError, call_command

from selvbetjening.models import Condition, Goal
from tests.selvbetjening import factories
from tests.selvbetjening.helpers import goal_body

WALK = "6c3f2a55-5b87-4d55-9b6c-0b8b6fb2c5a1"
COOK = "6c3f2a55-5b87-4d55-9b6c-0b8b6fb2c5a2"
WASH = "6c3f2a55-5b87-4d55-9b6c-0b8b6fb2c5a3"
GOOD = (
    f"code;display;area\n{WALK};Gå;Mobilitet\n{COOK};Lave mad;praktiske opgaver i hjemmet\n{WASH};Vaske sig;self_care\n"
)


def _load(tmp_path, text, name="tilstande.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return call_command("load_fsiii_conditions", str(path))


def _listed():
    return sorted(Condition.objects.values_list("code", "display", "area", "active"))


@pytest.mark.django_db
def test_a_good_file_loads_the_list_and_loading_it_again_changes_nothing(tmp_path, capsys):
    _load(tmp_path, GOOD)
    assert "3 nye, 0 ændrede, 0 gjort inaktive" in capsys.readouterr().out
    loaded = _listed()
    assert loaded == sorted(
        [
            (uuid.UUID(WALK), "Gå", "mobility", True),
            (uuid.UUID(COOK), "Lave mad", "household", True),
            (uuid.UUID(WASH), "Vaske sig", "self_care", True),
        ]
    )
    _load(tmp_path, GOOD)
    assert "0 nye, 0 ændrede, 0 gjort inaktive" in capsys.readouterr().out
    assert _listed() == loaded


@pytest.mark.django_db
def test_a_new_file_renames_and_a_condition_left_out_becomes_inactive(tmp_path, capsys):
    _load(tmp_path, GOOD)
    _load(tmp_path, f"\ufeff{WALK};Gå indendørs;mobilitet\n{COOK};Lave mad;household\n")
    assert "0 nye, 1 ændrede, 1 gjort inaktive" in capsys.readouterr().out
    assert _listed() == sorted(
        [
            (uuid.UUID(WALK), "Gå indendørs", "mobility", True),
            (uuid.UUID(COOK), "Lave mad", "household", True),
            (uuid.UUID(WASH), "Vaske sig", "self_care", False),
        ]
    )


@pytest.mark.django_db
def test_a_bad_file_names_every_bad_line_in_danish_and_changes_nothing(tmp_path):
    _load(tmp_path, GOOD)
    before = _listed()
    bad = (
        f"{WALK};Gå på trapper;mobilitet\n"  # good, but not loaded: the file is all or nothing
        "gå;Gå;mobilitet\n"
        f"{COOK};;household\n"
        f"{WASH};Vaske sig;hygiejne\n"
        f"{WALK};Gå igen;mobilitet\n"
        "kun to;felter\n"
    )
    with pytest.raises(CommandError) as refused:
        _load(tmp_path, bad)
    message = str(refused.value)
    assert "Kodelisten er ikke indlæst; intet er ændret." in message
    assert "Linje 2: koden „gå“ er ikke et UUID." in message
    assert "Linje 3: tilstandens navn mangler." in message
    assert "Linje 4: området „hygiejne“ er ikke et FSIII-område; brug et af: Egenomsorg, " in message
    assert f"Linje 5: koden {WALK} står også på linje 1." in message
    assert "Linje 6: der skal være tre felter" in message
    assert "Linje 1" not in message
    assert _listed() == before


@pytest.mark.django_db
def test_an_empty_or_missing_file_is_refused_in_danish(tmp_path):
    with pytest.raises(CommandError, match="Filen indeholder ingen tilstande."):
        _load(tmp_path, "code;display;area\n\n")
    with pytest.raises(CommandError, match="findes ikke"):
        call_command("load_fsiii_conditions", str(tmp_path / "mangler.csv"))
    assert not Condition.objects.exists()


@pytest.mark.django_db
def test_with_a_list_the_api_refuses_a_condition_not_on_it_in_danish(world, episode, tmp_path):
    _load(tmp_path, f"{COOK};Lave mad;household\n")
    url = f"/api/v1/episodes/{episode.pk}/goals"
    due = str(episode.planned_end_date)
    refused = world.client("staff_in_team").post(url, goal_body(due_date=due), HTTP_ACCEPT_LANGUAGE="da")
    assert refused.status_code == 422, refused.content
    error = refused.json()["errors"][0]
    assert error["field"] == "condition_code"
    assert "kommunens FSIII-kodeliste" in refused.content.decode()
    assert not Goal.objects.exists()
    made = world.client("staff_in_team").post(
        url, goal_body(due_date=due, area="household", condition_code=COOK, condition_display="Lave mad")
    )
    assert made.status_code == 201, made.content
    # A condition taken off the list is refused too.
    Condition.objects.filter(code=COOK).update(active=False)
    assert world.client("staff_in_team").post(url, goal_body(due_date=due, condition_code=COOK)).status_code == 422
    assert Goal.objects.count() == 1


@pytest.mark.django_db
def test_with_a_list_an_edit_to_a_condition_not_on_it_is_refused_and_other_edits_are_not(world, episode, tmp_path):
    goal = factories.GoalFactory(episode=episode)  # written before the list, with a code not on it
    _load(tmp_path, f"{COOK};Lave mad;household\n")
    client = world.client("staff_in_team")
    refused = client.patch(
        f"/api/v1/goals/{goal.pk}", {"version": 1, "condition_code": WALK, "condition_display": "Gå"}
    )
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "condition_code"
    assert client.patch(f"/api/v1/goals/{goal.pk}", {"version": 1, "rank": 2}).status_code == 200
    moved = client.patch(
        f"/api/v1/goals/{goal.pk}", {"version": 2, "condition_code": COOK, "condition_display": "Lave mad"}
    )
    assert moved.status_code == 200 and moved.json()["condition"]["code"] == COOK
