"""The cache in front of the metadata table: Redis protocol (ElastiCache on AWS, a redis-server
locally), off when REDIS_URL is empty. Stores read through it (`read`) and invalidate what they change
(`invalidate`) in the same request; docs/architecture.md ("The cache") says why this is never stale.

- An entry belongs to a scope (a project, a repository) and records the scope's generation and the
  cache's epoch it was read under; a write increments its scope's generation (`g:<scope>`), which
  invalidates every entry of the scope at once. A read that missed fills its entry only if the
  generation and epoch are still the ones it read before going to the table (one script), so a read
  that raced a write never stores what it read.
- The cache is trusted only under a lease (`lease`, holding the epoch, set to expire `cache_lease_ms`
  after the Redis time read before the table was checked). A writer that cannot reach Redis counts a
  missed invalidation in the table (CACHE/DIRTY) and waits out the lease before it answers; whoever
  renews the lease reads that count first and starts a new epoch when an invalidation was missed. So
  after a write has answered, no entry read before it is trusted anywhere, Redis reachable or not.
- Redis unreachable: reads go to the table (its timeouts are short), and Redis is tried again after
  `cache_retry_seconds`; writes always try it.
All keys share one hash slot (`{hr}`): the scripts touch several keys, which Redis cluster mode and
ElastiCache Serverless allow only within a slot.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from functools import cache
from typing import TypeVar

import redis
from redis.commands.core import Script

from chalicelib.config import settings
from chalicelib.observability import logger, metrics
from chalicelib.store import metadata, parameters

T = TypeVar("T")
_PREFIX = "{hr}:"
_LEASE, _EPOCH = _PREFIX + "lease", _PREFIX + "epoch"
_CLOCK_MARGIN_SECONDS = 0.01  # the lease is set to the millisecond
DIRTY = ("CACHE", "DIRTY")  # missed invalidations (`missed`), and how many a new epoch covered (`cleared`)
_FILL = """
if redis.call('GET', KEYS[1]) == ARGV[1] and (redis.call('GET', KEYS[2]) or '0') == ARGV[2] then
  redis.call('SET', KEYS[3], ARGV[1] .. '|' .. ARGV[2] .. '|' .. ARGV[3], 'EX', tonumber(ARGV[4]))
  return 1
end
return 0
"""


def _generation(scope: str) -> str:
    return f"{_PREFIX}g:{scope}"


@dataclass(frozen=True)
class Key:
    """An entry and the scope whose writes invalidate it."""

    scope: str
    name: str

    @property
    def generation(self) -> str:
        return _generation(self.scope)

    @property
    def entry(self) -> str:
        return f"{_PREFIX}e:{self.name}"


@dataclass(frozen=True)
class _Seen:
    """What one MGET said of an entry: the lease's epoch (None: no lease), the generation, the entry."""

    epoch: str | None
    generation: str
    raw: str | None

    def value(self) -> str | None:
        if self.epoch is None or self.raw is None:
            return None
        epoch, generation, value = self.raw.split("|", 2)
        return value if (epoch, generation) == (self.epoch, self.generation) else None


class _Health:
    def __init__(self) -> None:
        self.down_until = 0.0
        self.lock = threading.Lock()

    def failed(self, error: Exception) -> None:
        with self.lock:
            was_up = self.down_until <= time.monotonic()
            self.down_until = time.monotonic() + settings().cache_retry_seconds
        if was_up:
            logger.warning("cache unreachable: reading the table until it answers", extra={"error": str(error)})
        metrics.add_metric(name="CacheUnavailable", unit="Count", value=1)

    def up(self) -> bool:
        return self.down_until <= time.monotonic()


_health = _Health()
_prefetched: ContextVar[dict[str, _Seen] | None] = ContextVar("cache_prefetched", default=None)


def enabled() -> bool:
    return bool(settings().redis_url)


@cache
def _client() -> redis.Redis:
    cfg = settings()
    # ElastiCache's AUTH token comes from Secrets Manager, never from the environment.
    auth = {"password": parameters.generated_secret(cfg.redis_auth_secret)} if cfg.redis_auth_secret else {}
    return redis.Redis.from_url(cfg.redis_url, decode_responses=True, socket_timeout=cfg.cache_timeout_seconds,
                                socket_connect_timeout=cfg.cache_timeout_seconds, retry_on_timeout=False, **auth)


@cache
def _fill_script() -> Script:
    return _client().register_script(_FILL)


def reset() -> None:
    """Forget the client (tests point REDIS_URL elsewhere)."""
    _client.cache_clear()
    _fill_script.cache_clear()
    _health.down_until = 0.0


def connection() -> redis.Redis | None:
    """The Redis client for the cache's other user (the pull buffer, store/pulls.py), or None when the
    cache is off or known to be away; report its failures with `unreachable`."""
    return _client() if enabled() and _health.up() else None


def unreachable(error: Exception) -> None:
    _health.failed(error)


def check() -> None:
    """Raise unless the cache answers (or is off)."""
    if enabled():
        _client().ping()


@contextmanager
def prefetched(reads: dict[Key, tuple[str, str]]) -> Iterator[None]:
    """Read these entries in one round trip for the reads that follow, and in one BatchGetItem the table
    items (PK, SK) that their loads will read first for those the cache does not hold, until the block
    ends (a pull names in its path everything it will read). The table is read after the generations
    were, as a load is, and after the lease was renewed when it had run out."""
    keys = list(reads)
    memo = _lookup(keys) if keys and enabled() and _health.up() else {}
    if memo and next(iter(memo.values())).epoch is None:  # one MGET: one lease for all
        epoch = _renew_lease()
        memo = {entry: replace(seen, epoch=epoch) for entry, seen in memo.items()} if epoch else {}
    # With the cache off or away, every load reads the table, eventually consistent.
    missed = [key for key in keys if memo[key.entry].value() is None] if memo else keys
    token = _prefetched.set(memo)
    try:
        with metadata.prefetched((reads[key] for key in missed), consistent=bool(memo)):
            yield
    finally:
        _prefetched.reset(token)


def _lookup(keys: list[Key]) -> dict[str, _Seen]:
    try:
        found = _client().mget([_LEASE, *(k for key in keys for k in (key.generation, key.entry))])
    except redis.RedisError as error:
        _health.failed(error)
        return {}
    epoch = found[0]
    return {key.entry: _Seen(epoch, found[1 + 2 * i] or "0", found[2 + 2 * i]) for i, key in enumerate(keys)}


def read(key: Key, load: Callable[[bool], T | None], encode: Callable[[T], str],
         decode: Callable[[str], T]) -> T | None:
    """The value from the cache when it holds a valid entry, else from `load` (the table), stored for
    the next read when the scope did not change meanwhile. Absent values are not cached. `load` is told
    whether its value may be cached: only then must it read consistently (a read that trails a write
    must not be kept), which costs twice the read units."""
    if not enabled() or not _health.up():
        return load(False)
    memo = _prefetched.get()
    seen = memo.pop(key.entry, None) if memo is not None else None
    if seen is None:
        seen = _lookup([key]).get(key.entry)
        if seen is None:  # unreachable
            return load(False)
    epoch = seen.epoch or _renew_lease()
    # An entry of the epoch the renewal kept is as good as under the lease it outlived.
    cached = _Seen(epoch, seen.generation, seen.raw).value()
    if cached is not None:
        return decode(cached)
    value = load(epoch is not None)
    if value is not None and epoch is not None:
        try:
            _fill_script()(keys=[_LEASE, key.generation, key.entry],
                           args=[epoch, seen.generation, encode(value), settings().cache_entry_ttl_seconds])
        except redis.RedisError as error:
            _health.failed(error)
    return value


def _renew_lease() -> str | None:
    """A new lease on the current epoch, or on a new one when an invalidation was missed since the last
    epoch began. The lease runs from the Redis time read before the table was."""
    client = _client()
    try:
        seconds, micros = client.time()
        started_ms = seconds * 1000 + micros // 1000
        marker = metadata.get(*DIRTY, consistent=True) or {}
        missed, cleared = int(marker.get("missed", 0)), int(marker.get("cleared", 0))
        epoch = client.get(_EPOCH)
        if epoch is None or missed > cleared:
            epoch = secrets.token_hex(8)
            client.set(_EPOCH, epoch)
            if missed > cleared:
                metadata.set_fields(*DIRTY, {"cleared": missed})
        client.set(_LEASE, epoch, pxat=started_ms + settings().cache_lease_ms)
    except redis.RedisError as error:
        _health.failed(error)
        return None
    return epoch


def invalidate(scopes: Iterable[str]) -> None:
    """Invalidate every entry of these scopes, after the table was written. When Redis cannot be told,
    the miss is counted in the table and the lease waited out (see the module's docstring)."""
    scopes = list(dict.fromkeys(scopes))
    if not enabled() or not scopes:
        return
    try:
        pipeline = _client().pipeline(transaction=False)
        for scope in scopes:
            pipeline.incr(_generation(scope))
        pipeline.execute()
    except redis.RedisError as error:
        _health.failed(error)
        metadata.set_fields(*DIRTY, {}, add={"missed": 1}, must_exist=False)
        logger.warning("cache invalidation missed: waiting out the lease", extra={"scopes": scopes[:10]})
        time.sleep(settings().cache_lease_ms / 1000 + _CLOCK_MARGIN_SECONDS)
