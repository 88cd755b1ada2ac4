from datetime import time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from selvbetjening.services.episodes import episodes_ending_soon_notify
from selvbetjening.services.questionnaires import questionnaires_due_notify
from selvbetjening.services.requests import requests_overdue_notify

# Citizens are not woken by a questionnaire or an episode ending: what falls due on a day is announced
# from this local time on. Overdue requests go to staff on duty and are announced at any hour.
CITIZEN_DAY_STARTS = time(8, 0)


class Command(BaseCommand):
    help = (
        "Tell staff about requests past their response deadline, and citizens about questionnaires due and "
        "episodes ending soon (from 08:00 local time). Each is told once: safe to run any number of times; "
        "run it every 15 minutes."
    )

    def handle(self, *args: object, **options: object) -> None:
        now = timezone.now()
        local = now.astimezone(ZoneInfo(settings.DEFAULT_CITIZEN_TIME_ZONE))
        citizen_day = local.date() if local.time() >= CITIZEN_DAY_STARTS else local.date() - timedelta(days=1)
        overdue = requests_overdue_notify(now=now)
        ending = episodes_ending_soon_notify(today=citizen_day)
        due = questionnaires_due_notify(today=citizen_day)
        self.stdout.write(
            f"{overdue} overdue requests, {ending} episodes ending soon, {due} questionnaires due announced."
        )
