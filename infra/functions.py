"""The functions of infra/template.yaml run in this process, as Lambda would run them.

Each function's handler is imported from its `Handler` entry, the same string that deploys it;
its SQS event sources are polled here (the emulator stores queues but never invokes Lambda), with
Lambda's SQS event shape and partial-batch failures, so a message a handler reports failed stays
in the queue for a retry. EventBridge Scheduler schedules are fired here too (the emulator stores them
but never fires them): those the API creates with an SQS target (scan all) on the minutes their cron
expression names, and the template's own (ScheduleV2 events: the pull recorder's each minute).
Lambda invocations (a state machine's tasks, run by the emulator's ASL interpreter) are dispatched to
the same handlers in-process instead of to a container: `dispatch_lambda_invocations`.
"""

from __future__ import annotations

import importlib
import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3

from chalicelib.schedules import cron_matches
from infra import invocation
from infra.resources import Context

# A queued message moves from delayed to visible to in flight; counted in that order, one count per call,
# none is missed between counts (see LocalFunctions.pending).
POLL_WAIT_SECONDS = 20  # SQS's longest wait for a receive

_PENDING_STATES = ("ApproximateNumberOfMessagesDelayed", "ApproximateNumberOfMessages",
                   "ApproximateNumberOfMessagesNotVisible")


@dataclass(frozen=True)
class LambdaContext:
    """What powertools' inject_lambda_context reads from Lambda's context object."""

    function_name: str
    deadline: float  # time.monotonic() at which Lambda would stop the invocation (its Timeout)
    memory_limit_in_mb: int = 128
    invoked_function_arn: str = ""
    aws_request_id: str = ""

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


@dataclass(frozen=True)
class QueueSource:
    function: str
    queue_url: str
    batch_size: int


_RATE_MINUTES = {"minute": 1, "hour": 60, "day": 24 * 60}


@dataclass(frozen=True)
class TemplateSchedule:
    """A function's ScheduleV2 event: rate(n unit) or cron(...)."""

    function: str
    expression: str
    payload: dict[str, Any]

    @property
    def every_minutes(self) -> int | None:
        found = re.fullmatch(r"rate\((\d+) (minute|hour|day)s?\)", self.expression.strip())
        return int(found.group(1)) * _RATE_MINUTES[found.group(2)] if found else None

    def due(self, minutes_running: int, moment: datetime) -> bool:
        """Whether it fires at this minute: a rate counts from the start (as from a schedule's creation)."""
        every = self.every_minutes
        if every is not None:
            return minutes_running > 0 and minutes_running % every == 0
        return cron_matches(self.expression, moment)


class LocalFunctions:
    def __init__(self, context: Context) -> None:
        self.context = context
        self.handlers = {name: props["Handler"] for name, props in context.functions().items() if "Handler" in props}
        self.sources = [
            QueueSource(name, context.resolve({"Ref": _queue_of(event)}), int(event["Properties"].get("BatchSize", 10)))
            for name, props in context.functions().items()
            for event in (props.get("Events") or {}).values() if event["Type"] == "SQS"]
        self.schedules = [
            TemplateSchedule(name, event["Properties"]["ScheduleExpression"],
                             json.loads(event["Properties"].get("Input", "{}")))
            for name, props in context.functions().items()
            for event in (props.get("Events") or {}).values() if event["Type"] == "ScheduleV2"]

    def dispatch_lambda_invocations(self) -> None:
        """Make the emulator's Lambda run our handlers in this process (it would start a container).
        Errors come back as Lambda reports them: FunctionError with errorMessage and errorType."""
        from moto.awslambda.models import LambdaFunction

        by_name = {self.context.physical_name(name): name for name, props in self.context.functions().items()
                   if "FunctionName" in props}
        def invoke(function: LambdaFunction, event: str | None = None) -> tuple[str, bool, str]:
            payload = json.loads(event) if isinstance(event, str | bytes) and event else (event or {})
            try:
                return json.dumps(self.invoke(by_name[function.function_name], payload)), False, ""
            except Exception as error:
                return json.dumps({"errorMessage": str(error), "errorType": type(error).__name__}), True, ""

        LambdaFunction._invoke_lambda = invoke  # type: ignore[method-assign]

    def invoke(self, function: str, event: dict[str, Any]) -> Any:
        module_name, _, attribute = self.handlers[function].rpartition(".")
        handler: Callable[[dict[str, Any], Any], Any] = getattr(importlib.import_module(module_name), attribute)
        timeout = float(self.context.functions()[function].get("Timeout", 3))  # Lambda's default
        with invocation.running(function):
            return handler(event, LambdaContext(function, time.monotonic() + timeout,
                                                aws_request_id=str(uuid.uuid4())))

    def deliver(self, source: QueueSource, wait_seconds: int = 0, sqs: Any = None) -> int:
        """One receive from the queue (waiting up to `wait_seconds` for a message) and one invocation with
        what came; returns the messages handled."""
        sqs = sqs or boto3.client("sqs", region_name=self.context.region)
        received = sqs.receive_message(QueueUrl=source.queue_url, MaxNumberOfMessages=min(source.batch_size, 10),
                                       WaitTimeSeconds=wait_seconds, AttributeNames=["All"]).get("Messages", [])
        if not received:
            return 0
        records = [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                    "attributes": m.get("Attributes", {}), "eventSource": "aws:sqs",
                    "eventSourceARN": source.queue_url} for m in received]
        answer = self.invoke(source.function, {"Records": records}) or {}
        failed = {f["itemIdentifier"] for f in answer.get("batchItemFailures", [])}
        for message in received:
            if message["MessageId"] not in failed:
                sqs.delete_message(QueueUrl=source.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return len(received)

    def drain(self, timeout: float = 120) -> None:
        """Deliver until every queue is empty, delayed messages included, and run what the template
        schedules each minute, as any wait of a minute would (tests: run the jobs, write the pulls now)."""
        sqs = boto3.client("sqs", region_name=self.context.region)
        deadline = time.monotonic() + timeout
        while True:
            handled = sum(self.deliver(source) for source in self.sources)
            if handled:
                continue
            self.run_minutely()
            if sum(self.deliver(source) for source in self.sources):
                continue
            busy = self.pending(sqs)
            if not busy:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"{busy} messages still queued after {timeout} s")
            time.sleep(0.2)

    def run_minutely(self) -> None:
        """Run now what the template schedules each minute (the pull recorder's move of stale tallies), as
        any wait of a minute would: drain()."""
        for schedule in self.schedules:
            if schedule.every_minutes == 1:
                self.invoke(schedule.function, schedule.payload)

    def deliver_all(self, function: str) -> None:
        """Deliver what the function's queues hold now, until they are empty (the launcher's stop writes the
        queued pulls: the emulator's queues are not saved)."""
        sqs = boto3.client("sqs", region_name=self.context.region)
        for source in (s for s in self.sources if s.function == function):
            while self.deliver(source, sqs=sqs):
                pass

    def pending(self, sqs: Any) -> int:
        """Messages not yet handled, in every queue. One GetQueueAttributes call counts the visible
        messages before the delayed ones: a delay ending between the two hid its message from both, and
        drain() returned with a job still queued (seen on a loaded machine). Counting each state in its
        own call, in the order messages first move through them, misses none of those. A retried message
        moves back, from in flight to visible, and can fall between two calls of one count: a count of
        none is made again, which sees it visible (nothing else receives meanwhile)."""
        def count() -> int:
            return sum(int(sqs.get_queue_attributes(QueueUrl=source.queue_url, AttributeNames=[state])
                           ["Attributes"].get(state, 0)) for state in _PENDING_STATES for source in self.sources)
        return count() or count()

    def start(self, stop: threading.Event, workers: int = 2) -> list[threading.Thread]:
        """Poll every SQS event source, and fire schedules each minute, until `stop` is set (the launcher)."""
        threads = [threading.Thread(target=self._clock, args=(stop,), daemon=True)]
        threads[0].start()
        for source in self.sources:
            for _ in range(workers):
                thread = threading.Thread(target=self._poll, args=(source, stop), daemon=True)
                thread.start()
                threads.append(thread)
        return threads

    def _clock(self, stop: threading.Event) -> None:
        from chalicelib.observability import logger

        started = last = datetime.now(UTC).replace(second=0, microsecond=0)
        while not stop.wait(1):
            minute = datetime.now(UTC).replace(second=0, microsecond=0)
            if minute != last:
                last = minute
                try:
                    fire_schedules(minute, self.context.region)
                except Exception:
                    logger.exception("local schedules could not be fired")
                minutes_running = int((minute - started).total_seconds()) // 60
                for schedule in self.schedules:
                    if schedule.due(minutes_running, minute):
                        threading.Thread(target=self._scheduled, args=(schedule,), daemon=True).start()

    def _scheduled(self, schedule: TemplateSchedule) -> None:
        from chalicelib.observability import logger

        try:
            self.invoke(schedule.function, schedule.payload)
        except Exception:  # the next firing comes regardless, as on AWS
            logger.exception("scheduled local function failed", extra={"function": schedule.function})

    def _poll(self, source: QueueSource, stop: threading.Event) -> None:
        """Long polls, as Lambda's event source mapping does: an idle queue costs one receive per
        POLL_WAIT_SECONDS, and a message sent meanwhile is received at once (the emulator wakes the
        waiting receive). One client for the thread's life: building one costs more than a receive."""
        from chalicelib.observability import logger

        sqs = boto3.client("sqs", region_name=self.context.region)
        while not stop.is_set():
            try:
                self.deliver(source, wait_seconds=POLL_WAIT_SECONDS, sqs=sqs)
            except Exception:  # keep polling, as Lambda's event source mapping would
                logger.exception("local function invocation failed", extra={"function": source.function})
                stop.wait(1)


def fire_schedules(moment: datetime, region: str) -> int:
    """Send the message of every SQS-target schedule due at `moment`'s minute; returns how many."""
    scheduler, sqs = boto3.client("scheduler", region_name=region), boto3.client("sqs", region_name=region)
    fired = 0
    for summary in scheduler.list_schedules().get("Schedules", []):
        schedule = scheduler.get_schedule(Name=summary["Name"], GroupName=summary.get("GroupName", "default"))
        target = schedule["Target"]
        if target["Arn"].startswith("arn:aws:sqs:") and cron_matches(schedule["ScheduleExpression"], moment):
            queue_url = sqs.get_queue_url(QueueName=target["Arn"].rsplit(":", 1)[1])["QueueUrl"]
            sqs.send_message(QueueUrl=queue_url, MessageBody=target.get("Input", "{}"))
            fired += 1
    return fired


def _queue_of(event: dict[str, Any]) -> str:
    queue = event["Properties"]["Queue"]
    target = queue["Fn::GetAtt"]
    return (target.split(".", 1) if isinstance(target, str) else target)[0]
