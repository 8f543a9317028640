"""Digest grammar and hashing, including a SHA state that survives between Lambda invocations.

hashlib cannot export its state, so uploads hash with OpenSSL's SHA256_CTX / SHA512_CTX through
ctypes: the raw context bytes are stored with the upload session and restored on the next PATCH,
which may run on another Lambda instance. The digest is thus verified on finalise without
re-reading the blob from S3.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import hashlib
import importlib
import re
from dataclasses import dataclass

from chalicelib.errors import DomainError

_DIGEST = re.compile(r"(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})")
_ANY_DIGEST = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+")

ALGORITHMS = ("sha256", "sha512")


def parse_digest(value: str) -> str:
    """Return the digest if it is one we support; raise DIGEST_INVALID otherwise."""
    if _DIGEST.fullmatch(value or ""):
        return value
    if _ANY_DIGEST.fullmatch(value or "") and value.split(":", 1)[0] not in ALGORITHMS:
        raise DomainError("DIGEST_INVALID", f"unsupported digest algorithm: {value.split(':', 1)[0]}")
    raise DomainError("DIGEST_INVALID", f"invalid digest: {value!r}")


def is_digest(value: str) -> bool:
    return bool(_DIGEST.fullmatch(value))


def algorithm_of(digest: str) -> str:
    return digest.split(":", 1)[0]


def digest_of(data: bytes, algorithm: str = "sha256") -> str:
    return f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"


@dataclass(frozen=True)
class _Algorithm:
    ctx_size: int
    digest_size: int
    init: str
    update: str
    final: str


_OPENSSL = {
    "sha256": _Algorithm(112, 32, "SHA256_Init", "SHA256_Update", "SHA256_Final"),
    "sha512": _Algorithm(216, 64, "SHA512_Init", "SHA512_Update", "SHA512_Final"),
}
# Where OpenSSL's libcrypto may be: the system's, by name, then the one Python's own hashlib links
# (dlsym on _hashlib's handle searches its dependencies), whatever the Lambda runtime ships.
_LIBCRYPTO_CANDIDATES = (ctypes.util.find_library("crypto"), "libcrypto.so.3", "libcrypto.so.1.1",
                         getattr(importlib.import_module("_hashlib"), "__file__", None))


class HashingUnavailable(RuntimeError):
    """OpenSSL's libcrypto could not be loaded: chunked uploads cannot be hashed across requests."""


@functools.cache
def _libcrypto() -> ctypes.CDLL:
    """Loaded on first use, so a runtime without it fails chunked uploads with this error, not the
    import of the whole API."""
    tried = []
    for candidate in filter(None, _LIBCRYPTO_CANDIDATES):
        try:
            library = ctypes.CDLL(candidate)
            library.SHA256_Init  # noqa: B018  (raises AttributeError when the symbol is missing)
        except (OSError, AttributeError) as error:
            tried.append(f"{candidate}: {error}")
            continue
        return library
    raise HashingUnavailable("resumable SHA-256 needs OpenSSL's libcrypto with SHA256_Init; tried "
                             + "; ".join(tried or ["nothing"]))


class ResumableHash:
    """A SHA-2 hash whose state can be saved as bytes and resumed elsewhere."""

    def __init__(self, algorithm: str, state: bytes | None = None) -> None:
        self.algorithm = algorithm
        self._spec = _OPENSSL[algorithm]
        self._ctx = ctypes.create_string_buffer(self._spec.ctx_size)
        if state is None:
            getattr(_libcrypto(), self._spec.init)(self._ctx)
        else:
            ctypes.memmove(self._ctx, state, self._spec.ctx_size)

    def update(self, data: bytes) -> None:
        if data:
            getattr(_libcrypto(), self._spec.update)(self._ctx, data, ctypes.c_size_t(len(data)))

    def state(self) -> bytes:
        return self._ctx.raw

    def digest(self) -> str:
        """The final digest; computed on a copy, so the hash can still be resumed."""
        ctx = ctypes.create_string_buffer(self._ctx.raw, self._spec.ctx_size)
        out = ctypes.create_string_buffer(self._spec.digest_size)
        getattr(_libcrypto(), self._spec.final)(out, ctx)
        return f"{self.algorithm}:{out.raw.hex()}"
