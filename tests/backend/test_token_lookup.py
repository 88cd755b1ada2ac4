"""The hot-path token lookup gives the same session, user and person records as the ORM would."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from backend.auth import actor_for_access_token
from backend.models import AppSession, Token
from tests import factories
from tests.conftest import access_token_for

pytestmark = pytest.mark.django_db


def test_a_citizen_token_carries_the_citizen_record_as_stored(world, django_assert_num_queries):
    token = access_token_for(world.citizen.user, AppSession.Audience.CITIZEN)
    with django_assert_num_queries(1):
        actor = actor_for_access_token(token)
        assert actor is not None
        citizen = actor.citizen
        assert actor.staff is None
    assert citizen is not None
    stored = type(citizen).objects.get(pk=world.citizen.pk)
    for field in type(citizen)._meta.concrete_fields:
        assert getattr(citizen, field.attname) == getattr(stored, field.attname), field.name
    assert isinstance(citizen.pk, uuid.UUID)
    assert citizen.created_at.tzinfo is not None
    assert citizen.user is actor.user


def test_a_staff_token_carries_staff_and_no_citizen(world):
    actor = actor_for_access_token(access_token_for(world.staff_in_team.user, AppSession.Audience.STAFF))
    assert actor is not None
    assert actor.staff == world.staff_in_team
    assert actor.citizen is None
    assert actor.session is not None and actor.session.user_id == world.staff_in_team.user.pk


def test_a_person_who_is_both_citizen_and_relative_gets_both_records(world):
    relative = factories.RelativeFactory(user=world.citizen.user)
    actor = actor_for_access_token(access_token_for(world.citizen.user, AppSession.Audience.CITIZEN))
    assert actor is not None
    assert actor.citizen == world.citizen
    assert actor.relative == relative


def test_expired_revoked_and_unknown_tokens_are_refused(world):
    token = access_token_for(world.citizen.user, AppSession.Audience.CITIZEN)
    assert actor_for_access_token(token + "x") is None
    Token.objects.filter(kind=Token.Kind.ACCESS).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert actor_for_access_token(token) is None
    token = access_token_for(world.citizen.user, AppSession.Audience.CITIZEN)
    AppSession.objects.update(revoked_at=timezone.now())
    assert actor_for_access_token(token) is None
