"""Factories for every model (factory-boy)."""

import random
from datetime import date, timedelta

import factory
import pyotp
from django.utils import timezone
from factory.django import DjangoModelFactory

from backend import cpr
from backend.models import (
    AccessLogEntry,
    AccountLockout,
    AppSession,
    CareRelation,
    Citizen,
    ExternalIdentity,
    IdempotencyRecord,
    LoginFlow,
    Membership,
    Municipality,
    OrganisationUnit,
    Relative,
    Staff,
    StaffRole,
    Team,
    Token,
    User,
)
from velfaerdsteknologi.models import Device, DeviceCredential


def random_cpr() -> str:
    day, month, year = random.randint(1, 28), random.randint(1, 12), random.randint(20, 60)
    return f"{day:02d}{month:02d}{year:02d}{random.randint(0, 3)}{random.randint(0, 999):03d}"


class MunicipalityFactory(DjangoModelFactory):
    class Meta:
        model = Municipality
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"{(n % 900) + 100}")
    name = factory.Sequence(lambda n: f"Kommune {n}")


class OrganisationUnitFactory(DjangoModelFactory):
    class Meta:
        model = OrganisationUnit

    municipality = factory.SubFactory(MunicipalityFactory)
    name = factory.Sequence(lambda n: f"Område {n}")


class TeamFactory(DjangoModelFactory):
    class Meta:
        model = Team

    unit = factory.SubFactory(OrganisationUnitFactory)
    name = factory.Sequence(lambda n: f"Team {n}")
    kind = Team.Kind.REHABILITATION


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.Faker("name", locale="da_DK")
    password = factory.django.Password("correct horse battery")
    totp_secret = factory.LazyFunction(pyotp.random_base32)


class StaffFactory(DjangoModelFactory):
    class Meta:
        model = Staff

    user = factory.SubFactory(UserFactory)
    municipality = factory.SubFactory(MunicipalityFactory)
    title = "Fysioterapeut"


class MembershipFactory(DjangoModelFactory):
    class Meta:
        model = Membership

    staff = factory.SubFactory(StaffFactory)
    team = factory.SubFactory(TeamFactory)
    role = StaffRole.THERAPIST
    valid_from = date(2020, 1, 1)


class CitizenFactory(DjangoModelFactory):
    class Meta:
        model = Citizen
        exclude = ("cpr_number",)

    cpr_number = factory.LazyFunction(random_cpr)
    municipality = factory.SubFactory(MunicipalityFactory)
    user = factory.SubFactory(UserFactory)
    given_name = factory.Faker("first_name", locale="da_DK")
    family_name = factory.Faker("last_name", locale="da_DK")
    address_line = factory.Faker("street_address", locale="da_DK")
    postcode = "5000"
    city = "Odense C"
    phone = "+4512345678"
    cpr_ciphertext = factory.LazyAttribute(lambda o: cpr.encrypt(cpr.CprNumber.parse(o.cpr_number)))
    cpr_hash = factory.LazyAttribute(lambda o: cpr.keyed_hash(cpr.CprNumber.parse(o.cpr_number)))


class RelativeFactory(DjangoModelFactory):
    class Meta:
        model = Relative

    user = factory.SubFactory(UserFactory)


class CareRelationFactory(DjangoModelFactory):
    class Meta:
        model = CareRelation

    citizen = factory.SubFactory(CitizenFactory)
    team = factory.SubFactory(TeamFactory)
    valid_from = date(2020, 1, 1)


class ExternalIdentityFactory(DjangoModelFactory):
    class Meta:
        model = ExternalIdentity

    user = factory.SubFactory(UserFactory)
    issuer = "https://idp.example.test"
    subject = factory.Sequence(lambda n: f"subject-{n}")


class AppSessionFactory(DjangoModelFactory):
    class Meta:
        model = AppSession

    user = factory.SubFactory(UserFactory)
    audience = AppSession.Audience.CITIZEN
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=30))


class TokenFactory(DjangoModelFactory):
    class Meta:
        model = Token

    session = factory.SubFactory(AppSessionFactory)
    kind = Token.Kind.ACCESS
    token_hash = factory.Sequence(lambda n: f"{n:064x}")
    expires_at = factory.SelfAttribute("session.expires_at")


class LoginFlowFactory(DjangoModelFactory):
    class Meta:
        model = LoginFlow

    audience = AppSession.Audience.CITIZEN
    state = factory.Sequence(lambda n: f"state-{n}")
    nonce = factory.Sequence(lambda n: f"nonce-{n}")
    provider_code_verifier = "v" * 64
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(minutes=10))


class AccountLockoutFactory(DjangoModelFactory):
    class Meta:
        model = AccountLockout

    scope = AccountLockout.Scope.ACCOUNT
    key = factory.Sequence(lambda n: f"account{n}")


class IdempotencyRecordFactory(DjangoModelFactory):
    class Meta:
        model = IdempotencyRecord

    scope = factory.Sequence(lambda n: f"user:{n}")
    key = factory.Faker("uuid4")
    operation = "test"
    request_hash = "0" * 64


class AccessLogEntryFactory(DjangoModelFactory):
    class Meta:
        model = AccessLogEntry

    actor_name = "Test"
    actor_role = "therapist"
    citizen = factory.SubFactory(CitizenFactory)
    resource_type = "citizen"
    action = AccessLogEntry.Action.READ
    purpose = AccessLogEntry.Purpose.CARE


class DeviceFactory(DjangoModelFactory):
    class Meta:
        model = Device

    municipality = factory.SubFactory(MunicipalityFactory)
    model = factory.SubFactory("tests.velfaerdsteknologi.factories.DeviceModelFactory")
    serial_number = factory.Sequence(lambda n: f"SN-{n:06d}")


class DeviceCredentialFactory(DjangoModelFactory):
    class Meta:
        model = DeviceCredential

    device = factory.SubFactory(DeviceFactory)
    lookup_prefix = factory.Sequence(lambda n: f"{n:010x}")
    secret_hash = "0" * 64
