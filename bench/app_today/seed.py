"""Give the demo citizen borger1 something to do today: an active episode with the demo team, a training plan
of two exercises (without pictures) and a pending slot a few minutes ago (or at midnight, just after it).

Run by ``python -m bench.app_today`` in a subprocess with the run's environment, after ``seed_demo``; prints
borger1's login (username, password, TOTP secret) as JSON::

    python -m bench.app_today.seed
"""

import json
import os


def seed() -> dict[str, str]:
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from django.db import transaction
    from django.utils import timezone

    from backend.management.commands.seed_demo import DEMO_CITIZENS, DEMO_PASSWORD, DEMO_STAFF
    from backend.models import Citizen, Team, User
    from tests.selvbetjening.factories import EpisodeFactory
    from tests.selvbetjening.training_factories import ExerciseFactory, PlanExerciseFactory, make_plan, slot_at

    username, *_, secret, team_name = DEMO_CITIZENS[0]
    therapist = User.objects.get(username=DEMO_STAFF[0][0])
    with transaction.atomic():
        citizen = Citizen.objects.get(user__username=username)
        episode = EpisodeFactory(citizen=citizen, team=Team.objects.get(name=team_name), created_by=therapist)
        plan = make_plan(episode=episode, title="Styrke og balance", exercises=0, created_by=therapist)
        version = plan.current_version
        assert version is not None  # make_plan gives the plan its first version
        for position, title in enumerate(["Rejse-sætte-sig", "Hælløft"]):
            exercise = ExerciseFactory(title_da=title, title_en=title)
            PlanExerciseFactory(version=version, position=position, exercise=exercise)
        now = timezone.now().astimezone(ZoneInfo(version.time_zone)).replace(tzinfo=None)
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        slot_at(plan, max(now - timedelta(minutes=5), midnight))
    return {"username": username, "password": DEMO_PASSWORD, "totp_secret": secret}


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    print(json.dumps(seed()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
