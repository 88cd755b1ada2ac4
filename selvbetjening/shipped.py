"""Data the platform ships: the follow-up result code list and questionnaires written for Mestring.

Loaded by the data migration ``0002_shipped_data`` (and re-loadable with ``load_shipped_data``);
changes to questionnaires are published as new versions, never by editing a published one.
"""

from typing import Any

# (code, Danish, English, FHIR Goal.achievementStatus, order)
FOLLOW_UP_RESULTS: list[tuple[str, str, str, str, int]] = [
    ("E1", "Målet er nået", "The goal is reached", "achieved", 1),
    ("E2", "Målet er delvist nået", "The goal is partly reached", "improving", 2),
    ("E3", "Målet er ikke nået", "The goal is not reached", "not-achieved", 3),
    ("E4", "Målet er ikke længere relevant", "The goal is no longer relevant", "not-attainable", 4),
]


def _text(da: str, en: str) -> dict[str, str]:
    return {"da": da, "en": en}


_EFFORT_OPTIONS = [
    {"code": "easy", "text": _text("Uden besvær", "Without difficulty"), "score": 0},
    {"code": "some", "text": _text("Med lidt besvær", "With some difficulty"), "score": 1},
    {"code": "much", "text": _text("Med meget besvær", "With much difficulty"), "score": 2},
    {"code": "with_help", "text": _text("Kun med hjælp", "Only with help"), "score": 3},
    {"code": "cannot", "text": _text("Kan ikke", "Cannot"), "score": 4},
]


def _activity(link_id: str, da: str, en: str) -> dict[str, Any]:
    return {
        "link_id": link_id,
        "type": "choice",
        "text": _text(da, en),
        "required": True,
        "options": _EFFORT_OPTIONS,
    }


def _confidence(link_id: str, da: str, en: str) -> dict[str, Any]:
    return {
        "link_id": link_id,
        "type": "scale",
        "text": _text(da, en),
        "required": True,
        "min": 0,
        "max": 10,
        "min_label": _text("Slet ikke sikker", "Not at all confident"),
        "max_label": _text("Helt sikker", "Completely confident"),
    }


QUESTIONNAIRES: list[dict[str, Any]] = [
    {
        "key": "everyday-function",
        "title_da": "Sådan klarer jeg min hverdag",
        "title_en": "How I manage my everyday life",
        "schedule_with_episodes": True,
        "items": [
            _activity(
                "personal_care",
                "Hvordan klarer du at vaske dig og klæde dig på?",
                "How do you manage washing and dressing?",
            ),
            _activity("meals", "Hvordan klarer du at lave et let måltid?", "How do you manage making a light meal?"),
            _activity("cleaning", "Hvordan klarer du let rengøring?", "How do you manage light cleaning?"),
            _activity(
                "indoors",
                "Hvordan klarer du at bevæge dig rundt inde?",
                "How do you manage moving around indoors?",
            ),
            _activity(
                "outdoors",
                "Hvordan klarer du at komme ud og handle?",
                "How do you manage going out and shopping?",
            ),
            {
                "link_id": "walking_distance_km",
                "type": "decimal",
                "text": _text(
                    "Omtrent hvor langt kan du gå uden pause (km)?",
                    "About how far can you walk without a break (km)?",
                ),
                "min": 0,
                "max": 50,
            },
            {
                "link_id": "most_important",
                "type": "text",
                "text": _text(
                    "Hvad betyder mest for dig at kunne igen?",
                    "What matters most to you to be able to do again?",
                ),
            },
        ],
        "scoring": {
            "method": "sum",
            "link_ids": ["personal_care", "meals", "cleaning", "indoors", "outdoors"],
        },
    },
    {
        "key": "pain",
        "title_da": "Smerter",
        "title_en": "Pain",
        "schedule_with_episodes": False,
        "items": [
            {
                "link_id": "has_pain",
                "type": "boolean",
                "text": _text("Har du haft smerter den seneste uge?", "Have you had pain during the past week?"),
                "required": True,
            },
            {
                "link_id": "pain_now",
                "type": "scale",
                "text": _text("Hvor ondt har du lige nu?", "How much pain do you have right now?"),
                "required": True,
                "min": 0,
                "max": 10,
                "min_label": _text("Ingen smerte", "No pain"),
                "max_label": _text("Værst tænkelige smerte", "Worst pain imaginable"),
                "enable_when": [{"question": "has_pain", "operator": "=", "answer": True}],
            },
            {
                "link_id": "pain_worst",
                "type": "scale",
                "text": _text("Hvor ondt har du haft, når det var værst?", "How much pain did you have at its worst?"),
                "required": True,
                "min": 0,
                "max": 10,
                "min_label": _text("Ingen smerte", "No pain"),
                "max_label": _text("Værst tænkelige smerte", "Worst pain imaginable"),
                "enable_when": [{"question": "has_pain", "operator": "=", "answer": True}],
            },
            {
                "link_id": "pain_days",
                "type": "integer",
                "text": _text("Hvor mange dage havde du smerter?", "On how many days did you have pain?"),
                "min": 0,
                "max": 7,
                "enable_when": [{"question": "has_pain", "operator": "=", "answer": True}],
            },
            {
                "link_id": "stopped_activity",
                "type": "boolean",
                "text": _text(
                    "Har smerterne fået dig til at stoppe en aktivitet?",
                    "Has the pain made you stop an activity?",
                ),
                "enable_when": [{"question": "pain_worst", "operator": ">=", "answer": 4}],
            },
        ],
        "scoring": {"method": "mean", "link_ids": ["pain_now", "pain_worst"]},
    },
    {
        "key": "confidence",
        "title_da": "Tillid til egen formåen",
        "title_en": "Confidence in managing",
        "schedule_with_episodes": True,
        "items": [
            _confidence(
                "manage_daily",
                "Hvor sikker er du på, at du kan klare dine daglige gøremål?",
                "How confident are you that you can manage your daily tasks?",
            ),
            _confidence(
                "train_alone",
                "Hvor sikker er du på, at du kan træne på egen hånd?",
                "How confident are you that you can train on your own?",
            ),
            _confidence(
                "avoid_falls",
                "Hvor sikker er du på, at du kan færdes uden at falde?",
                "How confident are you that you can get around without falling?",
            ),
            _confidence(
                "ask_for_help",
                "Hvor sikker er du på, at du ved, hvem du skal kontakte, hvis noget går galt?",
                "How confident are you that you know whom to contact if something goes wrong?",
            ),
        ],
        "scoring": {
            "method": "mean",
            "link_ids": ["manage_daily", "train_alone", "avoid_falls", "ask_for_help"],
        },
    },
]


def load(follow_up_result_model: Any, questionnaire_model: Any, version_model: Any) -> None:
    """Create or refresh the shipped data with the given model classes (historical ones in the data
    migration, the current ones in ``load_shipped_data``). A changed questionnaire gets a new
    version; an unchanged one is left alone."""
    from selvbetjening.rules.questionnaires import definition_parse

    for code, display_da, display_en, status, order in FOLLOW_UP_RESULTS:
        follow_up_result_model.objects.update_or_create(
            code=code,
            defaults={
                "display_da": display_da,
                "display_en": display_en,
                "fhir_achievement_status": status,
                "sort_order": order,
                "is_active": True,
            },
        )
    for spec in QUESTIONNAIRES:
        questionnaire, _ = questionnaire_model.objects.update_or_create(
            key=spec["key"],
            defaults={
                "title_da": spec["title_da"],
                "title_en": spec["title_en"],
                "schedule_with_episodes": spec["schedule_with_episodes"],
            },
        )
        definition = definition_parse(spec["items"], spec["scoring"])
        items = [item.model_dump(mode="json", exclude_defaults=True) for item in definition.items]
        scoring = definition.scoring.model_dump(mode="json") if definition.scoring else None
        versions = version_model.objects.filter(questionnaire=questionnaire)
        current = versions.filter(is_current=True).first()
        if current is not None and current.items == items and current.scoring == scoring:
            continue
        number = max([0, *versions.values_list("number", flat=True)]) + 1
        versions.filter(is_current=True).update(is_current=False)
        version_model.objects.create(questionnaire=questionnaire, number=number, items=items, scoring=scoring)


def unload(follow_up_result_model: Any, questionnaire_model: Any, version_model: Any) -> None:
    """Remove the shipped data again (only possible while nothing refers to it)."""
    keys = [spec["key"] for spec in QUESTIONNAIRES]
    version_model.objects.filter(questionnaire__key__in=keys).delete()
    questionnaire_model.objects.filter(key__in=keys).delete()
    follow_up_result_model.objects.filter(code__in=[row[0] for row in FOLLOW_UP_RESULTS]).delete()
