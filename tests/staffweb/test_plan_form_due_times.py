"""The plan form's preview shows each training time with the time it may be filled until, by the same
rule (``selvbetjening.rules.slots.due_until``) that gives the plan's slots their ``due_until``."""

from datetime import timedelta

import pytest
from django.utils import timezone

from selvbetjening.models import TrainingSlot
from selvbetjening.services.slots import slots_materialise
from staffweb.plan_forms import PREVIEW_DAYS, PlanSchedule, preview_slots
from tests.selvbetjening.training_factories import make_plan

pytestmark = pytest.mark.django_db


def test_the_plan_forms_preview_shows_the_due_times_the_plans_slots_are_given():
    plan = make_plan(recurrence_rule="FREQ=DAILY")
    version = plan.current_version
    version.grace_minutes = 95
    version.save(update_fields=["grace_minutes"])
    now = timezone.now()
    schedule = PlanSchedule(
        recurrence_rule=version.recurrence_rule,
        start_date=version.start_date,
        start_time=version.start_time,
        end_date=version.end_date,
        time_zone=version.time_zone,
    )
    preview = preview_slots(schedule, now=now, grace_minutes=95)
    assert preview
    slots_materialise(plan=plan, until=now + timedelta(days=PREVIEW_DAYS), now=now)
    made = TrainingSlot.objects.filter(plan=plan).order_by("scheduled_at")[: len(preview)]
    assert [(slot.scheduled_at, slot.due_until) for slot in made] == [(shown.at, shown.until) for shown in preview]
    assert all((shown.until - shown.at).total_seconds() == 95 * 60 for shown in preview)
