from backend.actors import Actor


def rater_role(actor: Actor) -> str:
    """Which side an action is marked as: the citizen, a relative, or staff."""
    role = actor.audit_role
    return role if role in ("citizen", "relative") else "staff"
