"""Password hashing with argon2id (argon2-cffi's defaults follow RFC 9106)."""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from app.errors import Unprocessable

_hasher = PasswordHasher()
# Verified against when the username is unknown, so both paths cost the same time.
_DUMMY_HASH = _hasher.hash("liandong-dummy-password")


def configure(*, time_cost: int, memory_kib: int) -> None:
    """Set the argon2id cost (settings ARGON2_TIME_COST / ARGON2_MEMORY_KIB)."""
    global _hasher, _DUMMY_HASH
    if (_hasher.time_cost, _hasher.memory_cost) == (time_cost, memory_kib):
        return
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)
    _DUMMY_HASH = _hasher.hash("liandong-dummy-password")

MIN_LENGTH = 8
MAX_LENGTH = 128


def hash_password(password: str, *, field: str = "password") -> str:
    check_strength(password, field=field)
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def check_strength(password: str, *, field: str = "password") -> None:
    """Refuse weak passwords, reporting under the body field the client sent (`field`)."""
    if not (MIN_LENGTH <= len(password) <= MAX_LENGTH):
        raise Unprocessable("weak_password", f"A password has {MIN_LENGTH} to {MAX_LENGTH} characters.",
                            errors={field: [f"Length must be {MIN_LENGTH}-{MAX_LENGTH}."]})
    if password.isdigit() or password.isalpha():
        raise Unprocessable("weak_password", "A password mixes letters with digits or symbols.",
                            errors={field: ["Mix letters with digits or symbols."]})
