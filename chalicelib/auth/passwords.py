"""Salted PBKDF2-SHA256 password hashes, with a short-lived cache of successful verifications.

A registry client sends Basic credentials on every request; re-running the key derivation each
time would cost ~100 ms of CPU per request. A success is remembered for a minute under an HMAC of
(stored hash, password) with a per-process key, so the cache holds no reusable secret and a
changed password (new stored hash) never matches an old entry.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import time
from typing import Any

from chalicelib.errors import Invalid

_CACHE_SECONDS = 60.0
_CACHE_MAX = 1024
_process_key = os.urandom(32)
_verified: dict[bytes, float] = {}


def hash_password(password: str, iterations: int) -> dict[str, object]:
    salt = os.urandom(16)
    derived = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return {"password_salt": salt, "password_hash": derived, "password_iterations": iterations}


_decoys: dict[int, dict[str, object]] = {}


def verify_nothing(password: str, iterations: int) -> None:
    """Spend what a wrong password for a real account costs, for an unknown account: the answer's time
    must not tell which usernames exist."""
    # Random bytes as the stored hash: no password derives them, and making it costs no derivation.
    decoy = _decoys.setdefault(iterations, {"password_salt": os.urandom(16), "password_hash": os.urandom(32),
                                            "password_iterations": iterations})
    verify_password(password, decoy)


def verify_password(password: str, record: dict[str, object]) -> bool:
    stored = bytes(record["password_hash"])  # type: ignore[arg-type]
    cache_key = hmac.new(_process_key, stored + password.encode(), hashlib.sha256).digest()
    if _verified.get(cache_key, 0.0) > time.monotonic():
        return True
    derived = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes(record["password_salt"]),  # type: ignore[arg-type]
                                  int(record["password_iterations"]))  # type: ignore[call-overload]
    if not hmac.compare_digest(derived, stored):
        return False
    if len(_verified) >= _CACHE_MAX:
        _verified.clear()
    _verified[cache_key] = time.monotonic() + _CACHE_SECONDS
    return True


def meeting_policy(password: Any) -> str:
    """The password (or robot secret) when it meets Harbor's rule: 8 to 128 characters with at least one
    upper-case letter, one lower-case, one digit; Invalid otherwise."""
    if not isinstance(password, str) or not (8 <= len(password) <= 128) or not re.search(r"[A-Z]", password) \
            or not re.search(r"[a-z]", password) or not re.search(r"\d", password):
        raise Invalid("the password must be 8 to 128 characters long with at least one uppercase letter, one "
                      "lowercase letter and one number")
    return password
