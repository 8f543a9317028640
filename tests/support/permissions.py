"""Every AWS call the code makes while the tests run, by the template function making it, checked
against the IAM actions that function's role grants in infra/template.yaml.

A call is attributed to the function the local stack runs in that thread (infra/invocation.py); calls
made by the tests themselves, or by the emulation around the functions, belong to none and are not
counted. A call needs the IAM actions that AWS checks for its operation (`REQUIRED`, else
`<service>:<Operation>`). Missing actions fail any run; actions granted but never used fail a run of
the whole unit suite (a smaller run cannot tell).
"""

from __future__ import annotations

import contextvars
import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.client import BaseClient

from infra import invocation, resources

# Operations whose IAM actions are not simply <service>:<Operation>.
REQUIRED: dict[tuple[str, str], tuple[str, ...]] = {
    ("s3", "HeadObject"): ("s3:GetObject",),
    ("s3", "HeadBucket"): ("s3:ListBucket",),
    ("s3", "ListObjectsV2"): ("s3:ListBucket",),
    ("s3", "CreateMultipartUpload"): ("s3:PutObject",),
    ("s3", "UploadPart"): ("s3:PutObject",),
    ("s3", "UploadPartCopy"): ("s3:PutObject", "s3:GetObject"),
    ("s3", "CompleteMultipartUpload"): ("s3:PutObject",),
    ("s3", "CopyObject"): ("s3:PutObject", "s3:GetObject"),
    ("s3", "DeleteObjects"): ("s3:DeleteObject",),
    ("s3", "ListParts"): ("s3:ListMultipartUploadParts",),
    ("sqs", "SendMessageBatch"): ("sqs:SendMessage",),
    ("sqs", "GetQueueUrl"): ("sqs:GetQueueUrl",),
    ("states", "StartExecution"): ("states:StartExecution",),
    # Passing the scheduler's role to EventBridge Scheduler needs iam:PassRole on it.
    ("scheduler", "CreateSchedule"): ("scheduler:CreateSchedule", "iam:PassRole"),
    ("scheduler", "UpdateSchedule"): ("scheduler:UpdateSchedule", "iam:PassRole"),
}
# Granted for a failure path the tests do not provoke: boto3's transfer manager aborts a multipart
# upload that failed (the trivy DB upload, the export's CSV, a blob upload cancelled halfway).
FAILURE_PATHS = {"s3:AbortMultipartUpload"}

_lock = threading.Lock()
used: dict[str, set[str]] = defaultdict(set)


def _service(client: BaseClient) -> str:
    model = client.meta.service_model
    return model.signing_name or model.endpoint_prefix


def install() -> None:
    """Record every API call (idempotent). Work handed to a thread pool (boto3's transfers) runs in
    the context of the function that handed it over, so its calls count for that function."""
    if getattr(BaseClient._make_api_call, "recorded", False):
        return
    original = BaseClient._make_api_call
    submit = ThreadPoolExecutor.submit

    def submit_in_context(self: ThreadPoolExecutor, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        return submit(self, contextvars.copy_context().run, fn, *args, **kwargs)

    ThreadPoolExecutor.submit = submit_in_context  # type: ignore[method-assign]

    def recorded(self: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
        function = invocation.current.get()
        if function is not None:
            service = _service(self)
            actions = REQUIRED.get((service, operation_name), (f"{service}:{operation_name}",))
            with _lock:
                used[function].update(actions)
        return original(self, operation_name, api_params)

    recorded.recorded = True  # type: ignore[attr-defined]
    BaseClient._make_api_call = recorded  # type: ignore[method-assign]


def _statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    statements = document.get("Statement", [])
    return statements if isinstance(statements, list) else [statements]


def granted(template: dict[str, Any]) -> dict[str, set[str]]:
    """The actions each function's role allows: the API's role (APIHandler's Role), each SAM
    function's inline Policies."""
    found: dict[str, set[str]] = {}
    functions = {k: v for k, v in template["Resources"].items() if v["Type"] == "AWS::Serverless::Function"}
    for name, resource in functions.items():
        props = resource["Properties"]
        statements: list[dict[str, Any]] = []
        role = props.get("Role")
        if isinstance(role, dict) and "Fn::GetAtt" in role:
            target = role["Fn::GetAtt"]
            role_name = target.split(".")[0] if isinstance(target, str) else target[0]
            for policy in template["Resources"][role_name]["Properties"].get("Policies", []):
                statements += _statements(policy["PolicyDocument"])
        for policy in props.get("Policies", []):
            if isinstance(policy, dict):
                statements += _statements(policy)
        actions: set[str] = set()
        for statement in statements:
            if statement.get("Effect") == "Allow":
                listed = statement["Action"]
                actions.update([listed] if isinstance(listed, str) else listed)
        found[name] = actions
    return found


def report(*, whole_suite: bool) -> list[str]:
    """What is wrong: actions used without the permission, and (for the whole suite) permissions never
    used."""
    allowed = granted(resources.load_template())
    problems = []
    for function, actions in sorted(used.items()):
        missing = actions - allowed.get(function, set())
        if missing:
            problems.append(f"{function} calls AWS without the permission: {', '.join(sorted(missing))}")
    if whole_suite:
        for function, actions in sorted(allowed.items()):
            unused = actions - used.get(function, set()) - FAILURE_PATHS
            if unused:
                problems.append(f"{function}'s role grants what it never uses: {', '.join(sorted(unused))}")
    return problems
