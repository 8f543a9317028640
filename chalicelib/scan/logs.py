"""A scan job's log: lines gathered while a step runs, appended to scans/logs/<job id>.log in S3 once
the step ends (a job's steps run one at a time, so read-append-write is safe)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib import clock
from chalicelib.store import objects

if TYPE_CHECKING:
    from chalicelib.scan.jobs import Job
    from chalicelib.scan.reports import Report


def log_key(job_id: str) -> str:
    return f"scans/logs/{job_id}.log"


def add(job: Job, line: str) -> None:
    job.unwritten_log.append(f"{clock.iso()} {line}\n")


def write(job: Job) -> None:
    """Append the step's lines to the job's log: one read and one write per step."""
    if job.unwritten_log:
        key = log_key(job.job_id)
        objects.put(key, ((objects.get_text(key) or "") + "".join(job.unwritten_log)).encode())
        job.unwritten_log.clear()


def read(report: Report) -> str:
    """The log of the job that made the report, and why it ended when the job could not say it
    (a job that never reported back)."""
    text = objects.get_text(log_key(report.job_id)) or ""
    if report.message and report.message not in text:
        text += f"{report.end_time or ''} {report.message}\n"
    return text
