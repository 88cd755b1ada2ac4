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

_CPR_PATTERN = re.compile(r"([0-9]{6})-?([0-9]{4})")


class InvalidCpr(ValueError):
    pass


def _birth_century(seventh: int, year: int) -> int:
    """The century of birth by the CPR office's rules for the 7th digit and the two-digit year."""
    if seventh <= 3:
        return 1900
    if seventh in (4, 9):
        return 2000 if year <= 36 else 1900
    return 2000 if year <= 57 else 1800


@dataclass(frozen=True, slots=True)
class CprNumber:
    digits: str

    def __repr__(self) -> str:
        return "CprNumber(**********)"

    __str__ = __repr__

    @classmethod
    def parse(cls, raw: str) -> "CprNumber":
        match = _CPR_PATTERN.fullmatch(raw.strip())
        if not match:
            raise InvalidCpr("A CPR number has ten digits, optionally as DDMMYY-XXXX.")
        number = cls(match.group(1) + match.group(2))
        try:
            number.birth_date()
        except ValueError as exc:
            raise InvalidCpr("The first six digits of a CPR number are a date.") from exc
        return number

    def birth_date(self) -> date:
        """The date of birth, by the century rules of the CPR office (7th digit and year)."""
        day, month, year = int(self.digits[0:2]), int(self.digits[2:4]), int(self.digits[4:6])
        return date(_birth_century(int(self.digits[6]), year) + year, month, day)


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


def reencrypt(ciphertext: str) -> str:
    """The same CPR number encrypted under the first (newest) configured key, for a key rotation."""
    try:
        return _fernet(tuple(settings.CPR_ENCRYPTION_KEYS)).rotate(ciphertext.encode()).decode()
    except InvalidToken as exc:
        raise InvalidCpr("The stored CPR number cannot be decrypted with the configured keys.") from exc
