"""Upload purging (distribution's uploadpurging, Harbor's `upload_purging`): an upload session that
no one has written to for UPLOAD_PURGE_AGE_HOURS (default 168, as distribution) is abandoned; its
pending chunks, its S3 multipart upload and its session record are removed. A session written since
it was read is kept (its record's deletion is conditional on the version read), so a push in progress
is never purged. UPLOAD_PURGE_DRY_RUN=true logs what would go. Runs daily (UploadPurgeFunction),
besides the bucket's lifecycle rules, which catch what this misses."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from chalicelib import clock
from chalicelib.config import settings
from chalicelib.observability import logger
from chalicelib.store import objects
from chalicelib.store import uploads as store

PREFIX = "uploads/"
_SAFETY_SECONDS = 30


def purge(time_left: Callable[[], float]) -> dict[str, int]:
    """One pass over the sessions started before the cutoff and those holding bytes in S3; counts of
those purged and kept."""
    cfg = settings()
    cutoff = clock.iso(clock.now() - timedelta(hours=cfg.upload_purge_age_hours))
    multiparts: dict[str, list[objects.MultipartUpload]] = {}
    for upload in objects.multipart_uploads(PREFIX):
        multiparts.setdefault(_session_of(upload.key), []).append(upload)
    sessions = sorted({_session_of(p) for p in objects.subprefixes(PREFIX)} | set(multiparts)
                      | set(store.started_before(cutoff)))  # records of sessions that hold no bytes yet
    counts = {"purged": 0, "kept": 0}
    for upload_id in sessions:
        if time_left() < _SAFETY_SECONDS:
            break  # the next run goes on
        purged = _purge_session(upload_id, multiparts.get(upload_id, []), cutoff, cfg.upload_purge_dry_run)
        counts["purged" if purged else "kept"] += 1
    logger.info("upload purge", extra={**counts, "cutoff": cutoff, "dry_run": cfg.upload_purge_dry_run})
    return counts


def _session_of(key: str) -> str:
    return key[len(PREFIX):].split("/", 1)[0]


def _purge_session(upload_id: str, multiparts: list[objects.MultipartUpload], cutoff: str, dry_run: bool) -> bool:
    seen = store.activity(upload_id)
    listed, _ = objects.list_page(f"{PREFIX}{upload_id}/")  # a session holds a few objects at most
    last_write = max([seen.last_write if seen else "", *(u.initiated for u in multiparts),
                      *(o.modified for o in listed)])
    if last_write >= cutoff:
        return False
    if dry_run:
        logger.info("upload session would be purged", extra={"upload_id": upload_id, "last_write": last_write})
        return True
    if seen is not None:
        try:
            store.delete_unless_written(upload_id, seen)
        except store.ConditionFailed:
            return False  # written meanwhile: in use
    for upload in multiparts:
        objects.abort_multipart(upload.key, upload.upload_id)
    objects.delete_many([o.key for o in listed])
    logger.info("upload session purged", extra={"upload_id": upload_id, "last_write": last_write})
    return True
