"""The citizen's side of the live-triage benchmark: borger1 gets the plan with a slot today that
``bench.app_today.seed`` gives (an episode with the demo team, two exercises), and a bearer token of the
citizen app, as a native app holds it, and the demo therapist's login. Prints what
``python -m bench.triage_live`` needs as JSON::

    python -m bench.triage_live.seed
"""

import json
import os


def seed() -> dict[str, object]:
    from backend.management.commands.seed_demo import DEMO_CITIZENS, DEMO_PASSWORD, DEMO_STAFF
    from backend.models import AppSession, User
    from backend.services.identity import ClientInfo, session_start
    from bench.app_today.seed import seed as training_today
    from selvbetjening.models import TrainingPlan

    training_today()
    citizen = User.objects.get(username=DEMO_CITIZENS[0][0])
    plan = TrainingPlan.objects.filter(episode__citizen__user=citizen).latest("created_at")
    version = plan.current_version
    assert version is not None
    pair = session_start(
        user=citizen, audience=AppSession.Audience.CITIZEN, client=ClientInfo("127.0.0.1", "bench.triage_live")
    )
    return {
        "citizen_id": str(citizen.citizen.pk),
        "plan_id": str(plan.pk),
        "exercises": [
            {"exercise_id": str(item.exercise_id), "sets": item.sets, "repetitions": item.repetitions}
            for item in version.exercises.order_by("position")
        ],
        "token": pair.access_token,
        "therapist": {"username": DEMO_STAFF[0][0], "password": DEMO_PASSWORD, "totp_secret": DEMO_STAFF[0][2]},
    }


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    print(json.dumps(seed()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
