"""Opaque bearer secrets: random, recognisable by a prefix, stored only as a SHA-256 hash."""

import hashlib
import hmac
import secrets

ACCESS_PREFIX = "mat_"
REFRESH_PREFIX = "mrt_"
APP_CODE_PREFIX = "mac_"
DEVICE_PREFIX = "mdt_"


def new_secret(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def hash_secret(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def secrets_match(raw: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(raw), stored_hash)


def looks_like(raw: str, prefix: str, *, max_length: int = 200) -> bool:
    return raw.startswith(prefix) and len(raw) <= max_length and raw.isascii()
