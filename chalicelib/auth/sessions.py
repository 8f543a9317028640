"""Browser sessions and CSRF protection, as Harbor's portal uses them.

- `POST /c/login` (form `principal`, `password`) opens a session: a random id in the `sid` cookie, its
  record in the table (store/sessions.py), so any API instance serves it. It expires after
  SESSION_TTL_SECONDS without use; a use past half of that pushes the expiry out (one write per half).
- CSRF (Harbor's gorilla/csrf with `X-Harbor-CSRF-Token`): a random secret in an HttpOnly cookie; every
  answer to a browser request carries the header with that secret masked afresh; a request that changes
  something with a session (and `/c/login` itself) must send the header back. Basic and bearer callers
  carry no session and are not asked for it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

from chalicelib.auth import users
from chalicelib.auth.access import ANONYMOUS, Principal
from chalicelib.config import settings
from chalicelib.errors import DomainError
from chalicelib.store import sessions as store
from chalicelib.store.sessions import SessionRecord

_SECRET_BYTES = 32


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def login(principal: str, password: str) -> str:
    """A new session's id; UNAUTHORIZED for wrong credentials (Harbor's 401, no detail)."""
    user = users.check_credentials(principal, password) if principal else None
    if user is None:
        raise DomainError("UNAUTHORIZED", "invalid credentials")
    session_id = secrets.token_urlsafe(_SECRET_BYTES)
    store.create(_hash(session_id), SessionRecord(user.user_id, user.username,
                                                  int(time.time()) + settings().session_ttl_seconds))
    return session_id


def logout(session_id: str) -> None:
    store.delete(_hash(session_id))


def principal(session_id: str) -> Principal:
    """The user of a live session; anonymous for an unknown or expired one (or a deleted user)."""
    record = store.get(_hash(session_id))
    now = int(time.time())
    if record is None or record.expires_at <= now:
        return ANONYMOUS
    user = users.get_user_by_id(record.user_id)
    if user is None:
        return ANONYMOUS
    ttl = settings().session_ttl_seconds
    if record.expires_at - now < ttl / 2:
        store.extend(_hash(session_id), now + ttl)
    return Principal(username=user.username, user_id=user.user_id, sysadmin=user.sysadmin)


def new_csrf_secret() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(_SECRET_BYTES)).decode()


def csrf_secret_well_formed(secret: str | None) -> bool:
    try:
        return bool(secret) and len(base64.urlsafe_b64decode(secret or "")) == _SECRET_BYTES
    except (ValueError, TypeError):
        return False


def csrf_token(secret: str) -> str:
    """The secret masked with fresh random bytes: a new token each answer, all valid (BREACH-safe)."""
    raw = base64.urlsafe_b64decode(secret)
    mask = secrets.token_bytes(len(raw))
    return base64.urlsafe_b64encode(mask + bytes(a ^ b for a, b in zip(mask, raw, strict=True))).decode()


def csrf_valid(secret: str | None, token: str | None) -> bool:
    if not secret or not token:
        return False
    try:
        raw, sent = base64.urlsafe_b64decode(secret), base64.urlsafe_b64decode(token)
    except (ValueError, TypeError):
        return False
    if len(raw) != _SECRET_BYTES or len(sent) != 2 * _SECRET_BYTES:
        return False
    unmasked = bytes(a ^ b for a, b in zip(sent[:_SECRET_BYTES], sent[_SECRET_BYTES:], strict=True))
    return hmac.compare_digest(unmasked, raw)
