"""Password hashing with argon2id (argon2-cffi's RFC 9106 low-memory profile by default)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app


def _hasher() -> PasswordHasher:
    # Tests lower the cost through config; production keeps argon2-cffi's defaults.
    cost = current_app.config.get("ARGON2_PARAMS") or {}
    return PasswordHasher(**cost)


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def check_password(stored: str, password: str) -> bool:
    try:
        return _hasher().verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return _hasher().check_needs_rehash(stored)
