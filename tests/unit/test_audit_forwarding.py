"""Audit-log forwarding to a real TCP syslog receiver: Harbor's line format, skip_audit_log_database,
pull_audit_log_disable, and an endpoint that is down and comes back (records wait, none is lost)."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator

import boto3
import pytest

from chalicelib.config import settings
from infra.functions import LocalFunctions
from tests.support.client import Client, api
from tests.support.images import make_image
from tests.support.oci import push_image
from tests.support.waiting import wait_until

LINE = re.compile(r'<6>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \S+ audit\[\d+\]: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \[INFO\] '
                  r'\[/pkg/audit/forward.go:45\]\[operator="(?P<operator>[^"]*)" resourceType="(?P<type>[^"]*)" '
                  r'time="\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? \+0000 UTC"\]:'
                  r'action:(?P<action>\w+), resource:(?P<resource>\S+)')


class SyslogReceiver:
    """A TCP syslog receiver: keeps every line it is sent; stops and starts again on the same port."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.port = 0
        self._server: socket.socket | None = None

    def start(self) -> None:
        self._server = socket.create_server(("127.0.0.1", self.port))
        self.port = self._server.getsockname()[1]
        threading.Thread(target=self._serve, args=(self._server,), daemon=True).start()

    def _serve(self, server: socket.socket) -> None:
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return  # stopped
            with connection, connection.makefile("r") as stream:
                self.lines += [line.rstrip("\n") for line in stream]

    def stop(self) -> None:
        """Stop listening: shutdown wakes the thread blocked in accept (close alone would not)."""
        if self._server is not None:
            self._server.shutdown(socket.SHUT_RDWR)
            self._server.close()
            self._server = None

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def parsed(self) -> list[dict[str, str]]:
        matches = [LINE.fullmatch(line) for line in self.lines]
        assert all(matches), self.lines
        return [m.groupdict() for m in matches if m]


@pytest.fixture
def receiver(client: Client) -> Iterator[SyslogReceiver]:
    server = SyslogReceiver()
    server.start()
    assert api(client, "PUT", "/configurations", {"audit_log_forward_endpoint": server.endpoint}).status == 200
    yield server
    server.stop()


def _records(client: Client) -> list[dict[str, str]]:
    return api(client, "GET", "/audit-logs?page_size=100").json()


def test_records_are_forwarded_in_harbors_format_and_kept(client: Client, local_functions: LocalFunctions,
                                                          receiver: SyslogReceiver) -> None:
    push_image(client, "library/app", "v1", make_image("forwarded"))
    assert client.request("GET", "/v2/library/app/manifests/v1").status == 200
    local_functions.drain()

    forwarded = receiver.parsed()
    assert {"operator": "admin", "type": "artifact", "action": "create", "resource": "library/app:v1"} in forwarded
    assert {"operator": "admin", "type": "artifact", "action": "pull", "resource": "library/app:v1"} in forwarded
    assert {(r["operation"], r["resource"]) for r in _records(client)} >= {("create", "library/app:v1"),
                                                                          ("pull", "library/app:v1")}


def test_skipping_the_database_forwards_only(client: Client, local_functions: LocalFunctions,
                                            receiver: SyslogReceiver) -> None:
    assert api(client, "PUT", "/configurations", {"skip_audit_log_database": True}).status == 200
    push_image(client, "library/app", "v1", make_image("skipped"))
    assert client.request("GET", "/v2/library/app/manifests/v1").status == 200
    local_functions.drain()

    assert {r["action"] for r in receiver.parsed()} == {"create", "pull"}
    assert _records(client) == []
    repository = api(client, "GET", "/projects/library/repositories/app").json()
    assert repository["pull_count"] == 1  # the pull is still counted, once


def test_pull_records_can_be_switched_off(client: Client, local_functions: LocalFunctions,
                                          receiver: SyslogReceiver) -> None:
    assert api(client, "PUT", "/configurations", {"pull_audit_log_disable": True}).status == 200
    push_image(client, "library/app", "v1", make_image("quiet"))
    for _ in range(2):
        assert client.request("GET", "/v2/library/app/manifests/v1").status == 200
    local_functions.drain()

    assert [r["action"] for r in receiver.parsed()] == ["create"]
    assert [r["operation"] for r in _records(client)] == ["create"]
    assert api(client, "GET", "/projects/library/repositories/app").json()["pull_count"] == 2


def test_an_endpoint_that_is_down_delays_records_and_loses_none(client: Client, local_functions: LocalFunctions,
                                                                receiver: SyslogReceiver) -> None:
    receiver.stop()
    assert push_image(client, "library/app", "v1", make_image("waiting")).status == 201  # never slowed or failed
    forwarder = next(s for s in local_functions.sources if s.function == "AuditForwarderFunction")
    assert local_functions.deliver(forwarder) == 1  # tried: the endpoint is down
    assert receiver.lines == []

    receiver.start()  # the same port
    local_functions.drain()  # the record comes back after its retry delay and is delivered

    assert [r["resource"] for r in receiver.parsed()] == ["library/app:v1"]


def test_health_shows_records_parked_in_the_dead_letter_queue(client: Client, receiver: SyslogReceiver) -> None:
    health = api(client, "GET", "/health").json()
    assert {"name": "auditlog_forwarder", "status": "healthy"} in health["components"]
    boto3.client("sqs").send_message(QueueUrl=settings().audit_forward_dead_letter_queue_url, MessageBody="{}")
    health = api(client, "GET", "/health").json()
    forwarder = next(c for c in health["components"] if c["name"] == "auditlog_forwarder")
    assert health["status"] == "unhealthy" and forwarder["status"] == "unhealthy"
    assert forwarder["error"].startswith("1 audit records could not be forwarded")


def test_what_garbage_collection_deletes_is_forwarded(client: Client, local_functions: LocalFunctions,
                                                      receiver: SyslogReceiver) -> None:
    untagged = make_image("untagged")
    push_image(client, "library/app", untagged.digest, untagged)
    started = api(client, "POST", "/system/gc/schedule", {"schedule": {"type": "Manual"},
                                                          "parameters": {"delete_untagged": True}})
    execution = started.header("Location").rsplit("/", 1)[1]
    wait_until(lambda: api(client, "GET", f"/system/gc/{execution}").json()["job_status"] != "Running")
    local_functions.drain()

    deleted = {"operator": "harbor-gc", "type": "artifact", "action": "delete",
               "resource": f"library/app:{untagged.digest}"}
    assert deleted in receiver.parsed()
