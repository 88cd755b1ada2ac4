from backend.actors import Actor
from backend.models import Staff, Team
from backend.timeutil import municipal_today


def rater_role(actor: Actor) -> str:
    """Which side an action is marked as: the citizen, a relative, or staff."""
    role = actor.audit_role
    return role if role in ("citizen", "relative") else "staff"


def is_active_care_member(staff: Staff, team: Team) -> bool:
    today = municipal_today()
    return (
        staff.memberships.filter(
            team=team, role__in=["care_worker", "therapist", "team_lead"], valid_from__lte=today
        )
        .exclude(valid_to__lt=today)
        .exists()
    )
