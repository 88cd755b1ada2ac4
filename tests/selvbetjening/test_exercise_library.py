"""The shipped starter library: about thirty everyday exercises in Danish and English, loaded by slug."""

import re
from dataclasses import replace

import pytest
from django.core.management import call_command

from selvbetjening import exercise_library
from selvbetjening.exercise_library import LIBRARY
from selvbetjening.models import Exercise
from selvbetjening.services.exercises import exercise_library_load

NUMBERED_STEP = re.compile(r"^\d+\. \S", re.MULTILINE)


def test_the_library_ships_at_least_thirty_exercises_with_unique_slugs():
    slugs = [entry.slug for entry in LIBRARY]
    assert len(slugs) >= 30
    assert len(set(slugs)) == len(slugs)
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug) for slug in slugs)


@pytest.mark.parametrize("slug", ["sit-to-stand", "heel-raises", "stair-climbing", "one-leg-stance", "walking"])
def test_the_everyday_exercises_the_issue_names_are_there(slug):
    assert slug in {entry.slug for entry in LIBRARY}


@pytest.mark.parametrize("entry", LIBRARY, ids=lambda entry: entry.slug)
def test_every_exercise_has_numbered_steps_and_a_safety_note_in_both_languages(entry):
    assert entry.title_da and entry.title_en
    assert len(NUMBERED_STEP.findall(entry.instructions_da)) >= 3
    assert len(NUMBERED_STEP.findall(entry.instructions_en)) == len(NUMBERED_STEP.findall(entry.instructions_da))
    assert "gør ondt" in entry.instructions_da and "Sikkerhed:" in entry.instructions_da
    assert "hurts" in entry.instructions_en and "Safety:" in entry.instructions_en
    assert entry.body_area in Exercise.BodyArea.values
    assert entry.equipment in Exercise.Equipment.values
    assert entry.difficulty in Exercise.Difficulty.values


def test_standing_balance_exercises_tell_the_citizen_to_hold_on_to_something_stable():
    for entry in LIBRARY:
        if entry.body_area == "balance" and entry.equipment == "table":
            assert "holde fast" in entry.instructions_da or "hold fast" in entry.instructions_da, entry.slug


@pytest.mark.django_db
def test_loading_twice_creates_the_shared_library_once_and_changes_nothing_the_second_time():
    assert exercise_library_load() == len(LIBRARY)
    stored = {exercise.slug: exercise for exercise in Exercise.objects.all()}
    assert len(stored) == len(LIBRARY)
    assert all(exercise.municipality_id is None and exercise.is_active for exercise in stored.values())
    sit_to_stand = stored["sit-to-stand"]
    assert sit_to_stand.title_da == "Rejse-sætte-sig" and sit_to_stand.instructions_en.startswith("1. Sit")
    before = {exercise.pk: (exercise.version, exercise.updated_at) for exercise in stored.values()}

    assert exercise_library_load() == 0
    after = {exercise.pk: (exercise.version, exercise.updated_at) for exercise in Exercise.objects.all()}
    assert after == before


@pytest.mark.django_db
def test_changed_shipped_text_updates_the_stored_exercise_in_place(monkeypatch):
    exercise_library_load()
    original = Exercise.objects.get(slug="heel-raises")
    changed = tuple(
        replace(entry, title_en="Calf raises") if entry.slug == "heel-raises" else entry for entry in LIBRARY
    )
    monkeypatch.setattr("selvbetjening.services.exercises.LIBRARY", changed)
    assert exercise_library_load() == 1
    updated = Exercise.objects.get(slug="heel-raises")
    assert updated.pk == original.pk
    assert updated.title_en == "Calf raises" and updated.version == original.version + 1
    assert updated.updated_at > original.updated_at
    assert Exercise.objects.count() == len(LIBRARY)


@pytest.mark.django_db
def test_the_management_command_loads_the_library(capsys):
    call_command("load_exercise_library")
    call_command("load_exercise_library")
    assert Exercise.objects.filter(municipality__isnull=True).count() == len(exercise_library.LIBRARY)
    assert "0 exercises created or changed" in capsys.readouterr().out


@pytest.mark.django_db
def test_staff_find_the_loaded_library_by_searching_in_danish(world):
    exercise_library_load()
    response = world.client("staff_in_team").get("/api/v1/exercises", {"q": "hælløft"})
    assert [item["slug"] for item in response.json()["items"]] == ["heel-raises"]
