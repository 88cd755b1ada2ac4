from backend.models.audit import AccessLogEntry, AccessLogQuerySet
from backend.models.duty import Duty
from backend.models.identity import (
    AccessVersion,
    AccountLockout,
    AppSession,
    ExternalIdentity,
    IdempotencyRecord,
    LoginFlow,
    Token,
    User,
)
from backend.models.people import CareRelation, Citizen, Membership, Relative, Staff, StaffRole
from backend.models.tenancy import Municipality, OrganisationUnit, Team

__all__ = [
    "AccessLogEntry",
    "AccessLogQuerySet",
    "AccessVersion",
    "AccountLockout",
    "AppSession",
    "CareRelation",
    "Citizen",
    "Duty",
    "ExternalIdentity",
    "IdempotencyRecord",
    "LoginFlow",
    "Membership",
    "Municipality",
    "OrganisationUnit",
    "Relative",
    "Staff",
    "StaffRole",
    "Team",
    "Token",
    "User",
]
