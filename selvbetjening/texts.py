"""English names of this app's codes; the Danish names are the models' choice labels."""

from typing import Any

from django.db import models

from backend import i18n

ENGLISH: dict[str, str] = {
    # episode kinds and statuses
    "everyday_rehabilitation": "Everyday rehabilitation (Social Services Act § 83 a)",
    "retraining": "Re-training (Social Services Act § 86)",
    "training": "Training course",
    "planned": "Planned",
    "active": "Active",
    "on_hold": "On hold",
    "paused": "Paused",
    "ended": "Ended",
    "completed": "Completed",
    "cancelled": "Cancelled",
    # contacts
    "contact_person": "Contact person",
    "stand_in": "Stand-in",
    # goal areas
    "self_care": "Self-care",
    "household": "Household tasks",
    "mobility": "Mobility",
    "muscle_function": "Muscle function",
    "communication": "Communication",
    "social_life": "Social life",
    "mental_functions": "Mental functions",
    "health": "Health",
    # request categories and statuses
    "help": "Need help",
    "plan_change": "Change of plan",
    "assistive_device": "Assistive device",
    "device_fault": "Device fault",
    "other": "Other",
    "open": "Received",
    "in_progress": "In progress",
    "answered": "Answered",
    "closed": "Closed",
    # questionnaire occasions and states
    "episode_start": "At the start of the course",
    "episode_midway": "Midway through the course",
    "episode_end": "At the end of the course",
    "staff": "Sent by staff",
    "pending": "Waiting",
}

# English names of the exercise library's codes, by field (their codes overlap with the ones above).
EXERCISE_ENGLISH: dict[str, dict[Any, str]] = {
    "body_area": {
        "lower_body": "Legs and hips",
        "upper_body": "Arms and shoulders",
        "trunk": "Back and stomach",
        "balance": "Balance",
        "hand": "Hands and fingers",
        "whole_body": "Whole body",
        "endurance": "Fitness",
    },
    "equipment": {
        "none": "No equipment",
        "chair": "Chair",
        "wall": "Wall",
        "table": "Table or kitchen counter",
        "stairs": "Stairs",
        "elastic_band": "Elastic band",
        "weights": "Dumbbells or ankle weights",
        "ball": "Ball",
        "walking_aid": "Walker or stick",
        "towel": "Towel",
    },
    "difficulty": {1: "Easy", 2: "Moderate", 3: "Hard"},
}


def label(choices: type[models.TextChoices], value: str) -> str:
    """The user-facing name of ``value`` in the request's language."""
    if i18n.language() == "en" and value in ENGLISH:
        return ENGLISH[value]
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def pick(danish: str, english: str) -> str:
    return english if i18n.language() == "en" else danish
