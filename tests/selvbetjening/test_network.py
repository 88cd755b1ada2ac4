"""A relative sees nothing without a grant in force, and only the granted scopes while it is."""

from datetime import timedelta

import pytest
from django.utils import timezone

from selvbetjening.models import Encouragement, NetworkGrant


@pytest.mark.django_db
def test_revocation_takes_effect_on_the_next_request(world, episode):
    relative = world.client("relative_with_consent")
    path = f"/api/v1/relative/citizens/{world.citizen.pk}/progress"
    assert relative.get(path).status_code == 200
    grant = NetworkGrant.objects.get(relative=world.relative_with_consent)
    assert world.client("citizen").delete(f"/api/v1/me/network/grants/{grant.pk}").status_code == 204
    assert relative.get(path).status_code == 404
    assert relative.get("/api/v1/relative/citizens").json()["items"] == []


@pytest.mark.django_db
def test_expiry_takes_effect_without_anyone_acting(world, episode):
    NetworkGrant.objects.filter(relative=world.relative_with_consent).update(
        valid_until=timezone.now() - timedelta(seconds=1)
    )
    assert (
        world.client("relative_with_consent").get(f"/api/v1/relative/citizens/{world.citizen.pk}/progress").status_code
        == 404
    )


@pytest.mark.django_db
def test_only_granted_scopes(world, episode):
    grant = NetworkGrant.objects.get(relative=world.relative_with_consent)
    response = world.client("citizen").patch(f"/api/v1/me/network/grants/{grant.pk}", {"scopes": ["view_progress"]})
    assert response.json()["scopes"] == ["view_progress"]
    relative = world.client("relative_with_consent")
    sent = relative.post(f"/api/v1/relative/citizens/{world.citizen.pk}/encouragements", {"text": "Hej"})
    assert sent.status_code == 404
    assert not Encouragement.objects.exists()
    assert relative.get(f"/api/v1/relative/citizens/{world.citizen.pk}/progress").status_code == 200


@pytest.mark.django_db
def test_relative_sees_no_citizen_endpoints_and_no_staff_endpoints(world, episode):
    relative = world.client("relative_with_consent")
    assert relative.get("/api/v1/me/episodes").status_code == 403
    assert relative.get(f"/api/v1/episodes/{episode.pk}").status_code == 403


@pytest.mark.django_db
def test_invitation_needs_a_scope_and_a_future_expiry(world):
    client = world.client("citizen")
    no_scope = client.post("/api/v1/me/network/invitations", {"label": "Nabo", "scopes": []})
    assert no_scope.status_code == 422 and no_scope.json()["errors"][0]["field"] == "scopes"
    past = client.post(
        "/api/v1/me/network/invitations",
        {"label": "Nabo", "scopes": ["view_progress"], "grant_valid_until": "2001-01-01T00:00:00Z"},
    )
    assert past.status_code == 422 and past.json()["errors"][0]["field"] == "grant_valid_until"


@pytest.mark.django_db
def test_withdrawn_or_expired_codes_do_not_work(world):
    citizen = world.client("citizen")
    relative = world.client("relative_without_consent")
    withdrawn = citizen.post("/api/v1/me/network/invitations", {"label": "A", "scopes": ["view_progress"]}).json()
    citizen.delete(f"/api/v1/me/network/invitations/{withdrawn['id']}")
    assert relative.post("/api/v1/relative/invitations/accept", {"code": withdrawn["code"]}).status_code == 404
    from selvbetjening.models import NetworkInvitation

    expired = citizen.post("/api/v1/me/network/invitations", {"label": "B", "scopes": ["view_progress"]}).json()
    NetworkInvitation.objects.filter(pk=expired["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert relative.post("/api/v1/relative/invitations/accept", {"code": expired["code"]}).status_code == 404
    assert not NetworkGrant.objects.filter(relative=world.relative_without_consent).exists()


@pytest.mark.django_db
def test_guessing_invitation_codes_is_stopped_after_ten_wrong_codes_a_minute(world, settings):
    relative = world.client("relative_without_consent")
    accept = "/api/v1/relative/invitations/accept"
    allowed = settings.RATE_LIMIT_PER_ACCOUNT[0]
    wrong = [relative.post(accept, {"code": f"WRONG{n:04d}"}).status_code for n in range(allowed)]
    assert wrong == [404] * allowed
    real = (
        world.client("citizen")
        .post("/api/v1/me/network/invitations", {"label": "A", "scopes": ["view_progress"]})
        .json()
    )
    refused = relative.post(accept, {"code": real["code"]})
    assert refused.status_code == 429 and refused["Retry-After"]
    assert not NetworkGrant.objects.filter(relative=world.relative_without_consent).exists()
    # Another relative on another client is not held up by the guesser.
    other = world.client("relative_with_consent").post(accept, {"code": real["code"]}, REMOTE_ADDR="198.51.100.8")
    assert other.status_code == 201


def test_the_apis_scope_names_are_the_access_declarations():
    """The API states the scopes a grant can have (its schema is the contract clients read); they are the
    access declaration's, in its order."""
    from typing import get_args

    from backend.access.declaration import DECLARATION
    from selvbetjening.schemas.network import ScopeName

    assert get_args(ScopeName) == DECLARATION.grants.scopes
