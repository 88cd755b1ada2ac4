"""Auth for the self-service routes (a bearer token or the citizen app's cookie login), each acting in
exactly one role.

A person can be a citizen and, for someone else, a relative at the same time. On ``/me`` they act
only as the citizen (their own data, logged as own use); on ``/relative`` only as the relative
(the citizens who let them in, within the granted scopes, logged as relative support). Narrowing
the actor here keeps every selector and service behind these routes from mixing the two.
"""

from functools import cached_property

from django.http import HttpRequest

from backend.actors import CITIZEN, RELATIVE, Actor
from backend.auth import SessionCookie, UserBearer
from backend.models import Citizen, Relative


class CitizenActor(Actor):
    """A citizen on their own routes: a relative role the same person holds does not apply."""

    @cached_property
    def relative(self) -> Relative | None:
        return None


class RelativeActor(Actor):
    """A relative on the relative routes: their own citizen record does not apply."""

    @cached_property
    def citizen(self) -> Citizen | None:
        return None


def acting_as_citizen(actor: Actor) -> CitizenActor:
    return CitizenActor(user=actor.user, session=actor.session, audience=actor.audience)


def acting_as_relative(actor: Actor) -> RelativeActor:
    return RelativeActor(user=actor.user, session=actor.session, audience=actor.audience)


class CitizenBearer(UserBearer):
    """Citizens only, acting as the citizen."""

    def __init__(self) -> None:
        super().__init__(roles=frozenset({CITIZEN}))

    def authenticate(self, request: HttpRequest, token: str) -> Actor | None:
        actor = super().authenticate(request, token)
        return None if actor is None else acting_as_citizen(actor)


class RelativeBearer(UserBearer):
    """Relatives and volunteers only, acting as the relative."""

    def __init__(self) -> None:
        super().__init__(roles=frozenset({RELATIVE}))

    def authenticate(self, request: HttpRequest, token: str) -> Actor | None:
        actor = super().authenticate(request, token)
        return None if actor is None else acting_as_relative(actor)


class CitizenSessionCookie(SessionCookie):
    """The citizen app's cookie login, citizens only, acting as the citizen."""

    def __init__(self) -> None:
        super().__init__(roles=frozenset({CITIZEN}))

    def authenticate(self, request: HttpRequest, key: str | None) -> Actor | None:
        actor = super().authenticate(request, key)
        return None if actor is None else acting_as_citizen(actor)


class RelativeSessionCookie(SessionCookie):
    """The citizen app's cookie login, relatives and volunteers only, acting as the relative."""

    def __init__(self) -> None:
        super().__init__(roles=frozenset({RELATIVE}))

    def authenticate(self, request: HttpRequest, key: str | None) -> Actor | None:
        actor = super().authenticate(request, key)
        return None if actor is None else acting_as_relative(actor)


def citizen_auth() -> list:
    """A citizen's bearer token or cookie login, acting as the citizen."""
    return [CitizenBearer(), CitizenSessionCookie()]


def relative_auth() -> list:
    """A relative's bearer token or cookie login, acting as the relative."""
    return [RelativeBearer(), RelativeSessionCookie()]
