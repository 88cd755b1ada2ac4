"""CPR numbers: normalised, encrypted at rest and found by a keyed hash.

A CPR number is never logged and never placed in a URL; code passes it around as ``CprNumber`` whose
``repr`` hides the digits.
"""

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import date
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

_CPR_PATTERN = re.compile(r"^(\d{6})-?(\d{4})$")


class InvalidCpr(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class CprNumber:
    digits: str

    def __repr__(self) -> str:
        return "CprNumber(**********)"

    __str__ = __repr__

    @classmethod
    def parse(cls, raw: str) -> "CprNumber":
        match = _CPR_PATTERN.match(raw.strip())
        if not match:
            raise InvalidCpr("A CPR number has ten digits, optionally as DDMMYY-XXXX.")
        digits = match.group(1) + match.group(2)
        day, month = int(digits[0:2]), int(digits[2:4])
        try:
            date(2000, month, day)  # leap-tolerant check of day and month
        except ValueError as exc:
            raise InvalidCpr("The first six digits of a CPR number are a date.") from exc
        return cls(digits)

    def birth_date(self) -> date:
        """The date of birth, by the century rules of the CPR office (7th digit and year)."""
        day, month, year = int(self.digits[0:2]), int(self.digits[2:4]), int(self.digits[4:6])
        seventh = int(self.digits[6])
        if seventh <= 3 or (seventh in (4, 9) and year >= 37) or (seventh in (5, 6, 7, 8) and year >= 58):
            century = 1900
        elif seventh in (4, 9):
            century = 2000
        else:
            century = 2000 if year <= 57 else 1800
        return date(century + year, month, day)


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in keys])


def encrypt(cpr: CprNumber) -> str:
    return _fernet(tuple(settings.CPR_ENCRYPTION_KEYS)).encrypt(cpr.digits.encode()).decode()


def decrypt(ciphertext: str) -> CprNumber:
    try:
        return CprNumber(_fernet(tuple(settings.CPR_ENCRYPTION_KEYS)).decrypt(ciphertext.encode()).decode())
    except InvalidToken as exc:
        raise InvalidCpr("The stored CPR number cannot be decrypted with the configured keys.") from exc


def keyed_hash(cpr: CprNumber) -> str:
    return hmac.new(settings.CPR_HASH_KEY.encode(), cpr.digits.encode(), hashlib.sha256).hexdigest()
