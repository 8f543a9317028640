"""A scan job's log, a task log (chalicelib/jobs/logs.py) at scans/logs/<job id>.log: lines gathered
while a step runs, appended once the step ends."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.jobs import logs

if TYPE_CHECKING:
    from chalicelib.scan.jobs import Job
    from chalicelib.scan.reports import Report


def log_key(job_id: str) -> str:
    return f"scans/logs/{job_id}.log"


def add(job: Job, line: str) -> None:
    job.unwritten_log.append(logs.line(line))


def write(job: Job) -> None:
    """Append the step's lines to the job's log."""
    logs.append(log_key(job.job_id), job.unwritten_log)
    job.unwritten_log.clear()


def read(report: Report) -> str:
    """The log of the job that made the report, and why it ended when the job could not say it
    (a job that never reported back)."""
    text = logs.read(log_key(report.job_id))
    if report.message and report.message not in text:
        text += f"{report.end_time or ''} {report.message}\n"
    return text
