"""Every AWS call the code makes while the tests run, by the template function making it, checked
against the IAM statements of that function's role in infra/template.yaml: the actions and the
resources (tables and indexes, object keys, parameters, queues, schedules, roles passed).

A call is attributed to the function the local stack runs in that thread (infra/invocation.py); calls
made by the tests themselves, or by the emulation around the functions, belong to none and are not
counted. A call needs the IAM actions that AWS checks for its operation (`REQUIRED`, else
`<service>:<Operation>`) on the resources its parameters name. A call no statement allows fails any
run; actions granted but never used fail a run of the whole unit suite (a smaller run cannot tell).
"""

from __future__ import annotations

import contextvars
import fnmatch
import re
import threading
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.client import BaseClient

from infra import invocation, resources

ACCOUNT = "123456789012"  # the emulator's
# Operations whose IAM actions are not simply <service>:<Operation>.
REQUIRED: dict[tuple[str, str], tuple[str, ...]] = {
    ("s3", "HeadObject"): ("s3:GetObject",),
    ("s3", "HeadBucket"): ("s3:ListBucket",),
    ("s3", "ListObjectsV2"): ("s3:ListBucket",),
    ("s3", "CreateMultipartUpload"): ("s3:PutObject",),
    ("s3", "UploadPart"): ("s3:PutObject",),
    ("s3", "UploadPartCopy"): ("s3:PutObject",),
    ("s3", "CompleteMultipartUpload"): ("s3:PutObject",),
    ("s3", "CopyObject"): ("s3:PutObject",),
    ("s3", "DeleteObjects"): ("s3:DeleteObject",),
    ("s3", "ListParts"): ("s3:ListMultipartUploadParts",),
    ("s3", "ListMultipartUploads"): ("s3:ListBucketMultipartUploads",),
    ("sqs", "SendMessageBatch"): ("sqs:SendMessage",),
}
# Granted for paths the tests cannot order, and so do not always take:
RARE_PATHS = {
    # boto3's transfer manager aborts a multipart upload that failed (the trivy DB upload, the
    # export's CSV, a blob upload cancelled halfway).
    "*": {"s3:AbortMultipartUpload"},
    # A CVE export's download hands the state machine's task token back: the API does when the token
    # was kept before the download, the task when the download came first (the tests see either).
    "APIHandler": {"states:SendTaskSuccess"},
    "ExportTaskFunction": {"states:SendTaskSuccess"},
    # A scheduled system job's start sweeps the executions beyond the newest 50 (their records and logs).
    "ScanFunction": {"dynamodb:DeleteItem", "s3:ListBucket",
                     # ... and asks whether the previous run's state machine still runs.
                     "states:DescribeExecution"},
}
ANY = "*"  # a resource the call's parameters do not name (a task token's state machine)

_lock = threading.Lock()
used: dict[str, set[tuple[str, str]]] = defaultdict(set)  # function -> {(action, resource ARN)}


def _service(client: BaseClient) -> str:
    model = client.meta.service_model
    return model.signing_name or model.endpoint_prefix


def _table(region: str, name: str, index: str | None = None) -> str:
    return f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{name}" + (f"/index/{index}" if index else "")


def _needs(service: str, operation: str, params: dict[str, Any], region: str) -> Iterator[tuple[str, str]]:
    """(action, resource) pairs the call is authorized on."""
    actions = REQUIRED.get((service, operation), (f"{service}:{operation}",))
    if service == "dynamodb":
        if operation == "TransactWriteItems":
            arns = [_table(region, next(iter(item.values()))["TableName"]) for item in params["TransactItems"]]
        elif "RequestItems" in params:
            arns = [_table(region, name) for name in params["RequestItems"]]
        else:
            arns = [_table(region, params["TableName"], params.get("IndexName"))]
    elif service == "s3":
        keys = [o["Key"] for o in params["Delete"]["Objects"]] if "Delete" in params else [params.get("Key")]
        arns = [f"arn:aws:s3:::{params['Bucket']}" + (f"/{key}" if key else "") for key in keys]
        if "CopySource" in params:  # the source is read
            source = params["CopySource"]
            key = f"{source['Bucket']}/{source['Key']}" if isinstance(source, dict) else source.lstrip("/")
            yield "s3:GetObject", f"arn:aws:s3:::{key}"
    elif service == "ssm":
        arns = [f"arn:aws:ssm:{region}:{ACCOUNT}:parameter{params['Name']}"]
    elif service == "sqs":
        arns = [f"arn:aws:sqs:{region}:{ACCOUNT}:{params['QueueUrl'].rstrip('/').rsplit('/', 1)[-1]}"]
    elif service == "scheduler":
        arns = [f"arn:aws:scheduler:{region}:{ACCOUNT}:schedule/{params.get('GroupName', 'default')}/{params['Name']}"]
        if "Target" in params:  # handing the scheduler a role to assume
            yield "iam:PassRole", params["Target"]["RoleArn"]
    elif service == "states" and "stateMachineArn" in params:
        arns = [params["stateMachineArn"]]
    elif service == "states" and "executionArn" in params:
        arns = [params["executionArn"]]
    elif service == "secretsmanager":
        arns = [params["SecretId"]]
    else:
        arns = [ANY]
    for action in actions:
        for arn in arns:
            yield action, arn


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
            needs = set(_needs(_service(self), operation_name, api_params, self.meta.region_name))
            with _lock:
                used[function].update(needs)
        return original(self, operation_name, api_params)

    recorded.recorded = True  # type: ignore[attr-defined]
    BaseClient._make_api_call = recorded  # type: ignore[method-assign]


Statement = tuple[frozenset[str], tuple[str, ...]]  # (actions, resource patterns)


def _statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    statements = document.get("Statement", [])
    return statements if isinstance(statements, list) else [statements]


def _resource(context: resources.Context, raw: Any) -> str:
    """A statement's resource as an ARN pattern (`${Logical.Arn}` inside a Sub resolved too)."""
    if isinstance(raw, dict) and "Fn::Sub" in raw:
        text = re.sub(r"\$\{(\w+)\.Arn\}", lambda found: context.arn(found[1]), raw["Fn::Sub"])
        return str(context.resolve({"Fn::Sub": text}))
    return str(context.resolve(raw))


def granted(template: dict[str, Any]) -> dict[str, list[Statement]]:
    """The Allow statements of each function's role: the API's role (APIHandler's Role), each SAM
    function's inline Policies."""
    context = resources.Context(template, "us-east-1", ACCOUNT)
    found: dict[str, list[Statement]] = {}
    functions = {k: v for k, v in template["Resources"].items() if v["Type"] == "AWS::Serverless::Function"}
    for name, resource in functions.items():
        props = resource["Properties"]
        documents: list[dict[str, Any]] = []
        role = props.get("Role")
        if isinstance(role, dict) and "Fn::GetAtt" in role:
            target = role["Fn::GetAtt"]
            role_name = target.split(".")[0] if isinstance(target, str) else target[0]
            policies = template["Resources"][role_name]["Properties"].get("Policies", [])
            # A policy under a condition (the cache's secret) is taken as the local stack runs: absent.
            policies = [resources.unconditional(p) for p in policies]
            documents += [policy["PolicyDocument"] for policy in policies if "PolicyDocument" in policy]
        documents += [policy for policy in props.get("Policies", []) if isinstance(policy, dict)]
        statements: list[Statement] = []
        for statement in (s for document in documents for s in _statements(document)):
            if statement.get("Effect") != "Allow":
                continue
            actions, listed = statement["Action"], statement["Resource"]
            patterns = tuple(_resource(context, r) for r in (listed if isinstance(listed, list) else [listed]))
            statements.append((frozenset([actions] if isinstance(actions, str) else actions), patterns))
        found[name] = statements
    return found


def _allows(statements: list[Statement], action: str, resource: str) -> bool:
    def matches(pattern: str) -> bool:
        # A secret's ARN ends in its name and a random suffix; the emulator names it by name.
        return resource == ANY or fnmatch.fnmatchcase(resource, pattern) or pattern.endswith(f":{resource}")
    return any(action in actions and any(map(matches, patterns)) for actions, patterns in statements)


def report(*, whole_suite: bool) -> list[str]:
    """What is wrong: calls no statement allows, and (for the whole suite) actions never used."""
    allowed = granted(resources.load_template())
    problems = []
    for function, needs in sorted(used.items()):
        refused = sorted(f"{action} on {resource}" for action, resource in needs
                         if not _allows(allowed.get(function, []), action, resource))
        if refused:
            problems.append(f"{function} calls AWS without the permission: {'; '.join(refused)}")
    if whole_suite:
        for function, statements in sorted(allowed.items()):
            actions = set().union(*(actions for actions, _ in statements)) if statements else set()
            rare = RARE_PATHS["*"] | RARE_PATHS.get(function, set())
            unused = actions - {action for action, _ in used.get(function, set())} - rare
            if unused:
                problems.append(f"{function}'s role grants what it never uses: {', '.join(sorted(unused))}")
    return problems
