"""Create the stack's stateful resources from infra/template.yaml on an emulator or LocalStack.

Only the resource types the local stack needs are understood (DynamoDB tables, S3 buckets, SQS
queues, the functions a state machine invokes, state machines); their properties are translated
from CloudFormation's shape to the API's. The functions'
environment is the template's Globals plus each function's own block, resolved the same way
CloudFormation would.
"""

from __future__ import annotations

import io
import json
import secrets
import string
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import yaml
from botocore.exceptions import ClientError

TEMPLATE = Path(__file__).with_name("template.yaml")


class _CfnLoader(yaml.SafeLoader):
    """YAML loader that keeps CloudFormation's short-form tags (!Ref, !Sub, ...) as dicts."""


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _tag)


def unconditional(value: Any) -> Any:
    """A template value as the local stack takes it. The template's conditions deploy AWS-only parts
    (the cache's VPC and ElastiCache); the local stack has none (it runs its own Redis), so under a
    condition (Fn::If) it takes the branch of a false one."""
    return value["Fn::If"][2] if isinstance(value, dict) and "Fn::If" in value else value


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    return yaml.load(path.read_text(), Loader=_CfnLoader)


@dataclass(frozen=True)
class Context:
    template: dict[str, Any]
    region: str
    account_id: str

    def _pseudo(self) -> dict[str, str]:
        values = {"AWS::Region": self.region, "AWS::AccountId": self.account_id, "AWS::Partition": "aws"}
        for name, spec in self.template.get("Parameters", {}).items():
            values[name] = str(spec.get("Default", ""))
        return values

    def resolve(self, value: Any) -> Any:
        """Evaluate Ref (a resource's physical name, a queue's URL, or a parameter), GetAtt Arn, Sub and If."""
        if isinstance(value, dict) and "Ref" in value:
            target = value["Ref"]
            resource = self.template["Resources"].get(target)
            if resource and resource["Type"] == "AWS::Serverless::StateMachine":
                return self.arn(target)
            if resource and resource["Type"] == "AWS::SQS::Queue":
                return boto3.client("sqs", region_name=self.region).get_queue_url(
                    QueueName=self.physical_name(target))["QueueUrl"]
            if resource:
                return self.physical_name(target)
            return self._pseudo()[target]
        if isinstance(value, dict) and "Fn::GetAtt" in value:
            target, attribute = (value["Fn::GetAtt"].split(".", 1) if isinstance(value["Fn::GetAtt"], str)
                                 else value["Fn::GetAtt"])
            return self.arn(target) if attribute == "Arn" else self.physical_name(target)
        if isinstance(value, dict) and "Fn::If" in value:
            return self.resolve(unconditional(value))
        if isinstance(value, dict) and "Fn::Sub" in value:
            text = value["Fn::Sub"]
            for name, replacement in self._pseudo().items():
                text = text.replace("${" + name + "}", replacement)
            return text
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        return value

    def physical_name(self, logical_id: str) -> str:
        resource = self.template["Resources"][logical_id]
        props = resource.get("Properties", {})
        name_property = {"AWS::DynamoDB::Table": "TableName", "AWS::S3::Bucket": "BucketName",
                         "AWS::SQS::Queue": "QueueName", "AWS::Serverless::Function": "FunctionName",
                         "AWS::Serverless::StateMachine": "Name", "AWS::SecretsManager::Secret": "Name",
                         }.get(resource["Type"])
        # Resources without a name property get a generated one on AWS; the logical id stands in locally.
        return self.resolve(props[name_property]) if name_property else logical_id

    def arn(self, logical_id: str) -> str:
        kind = self.template["Resources"][logical_id]["Type"]
        name = self.physical_name(logical_id)
        return {"AWS::SQS::Queue": f"arn:aws:sqs:{self.region}:{self.account_id}:{name}",
                "AWS::IAM::Role": f"arn:aws:iam::{self.account_id}:role/{name}",
                "AWS::DynamoDB::Table": f"arn:aws:dynamodb:{self.region}:{self.account_id}:table/{name}",
                "AWS::S3::Bucket": f"arn:aws:s3:::{name}",
                "AWS::Serverless::Function": f"arn:aws:lambda:{self.region}:{self.account_id}:function:{name}",
                "AWS::Serverless::StateMachine": f"arn:aws:states:{self.region}:{self.account_id}:stateMachine:{name}",
                }[kind]

    def functions(self) -> dict[str, dict[str, Any]]:
        """The template's functions (APIHandler comes from `chalice package` and has no Handler here)."""
        return {logical_id: resource["Properties"] for logical_id, resource in self.template["Resources"].items()
                if resource["Type"] == "AWS::Serverless::Function"}

    def environment(self) -> dict[str, str]:
        """Every function's environment in one (the local stack runs them all in one process): the
        Globals block, then each function's own variables (names never clash with other values)."""
        blocks = [self.template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})]
        blocks += [props.get("Environment", {}).get("Variables", {}) for props in self.functions().values()]
        resolved: dict[str, str] = {}
        for block in blocks:
            for name, value in block.items():
                value = str(self.resolve(value))
                if resolved.get(name, value) != value:
                    raise ValueError(f"{name} differs between functions; the local stack cannot run both")
                resolved[name] = value
        return resolved


def _create_table(props: dict[str, Any]) -> None:
    dynamodb = boto3.client("dynamodb")
    args = {k: props[k] for k in ("TableName", "AttributeDefinitions", "KeySchema", "BillingMode",
                                  "GlobalSecondaryIndexes") if k in props}
    try:
        dynamodb.create_table(**args)
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceInUseException":
            raise
        return
    dynamodb.get_waiter("table_exists").wait(TableName=props["TableName"])
    if "TimeToLiveSpecification" in props:
        dynamodb.update_time_to_live(TableName=props["TableName"],
                                     TimeToLiveSpecification=props["TimeToLiveSpecification"])


def _lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    converted: dict[str, Any] = {"ID": rule["Id"], "Status": rule["Status"],
                                 "Filter": {"Prefix": rule.get("Prefix", "")}}
    if "AbortIncompleteMultipartUpload" in rule:
        converted["AbortIncompleteMultipartUpload"] = rule["AbortIncompleteMultipartUpload"]
    if "ExpirationInDays" in rule:
        converted["Expiration"] = {"Days": rule["ExpirationInDays"]}
    return converted


def _create_bucket(props: dict[str, Any], region: str) -> None:
    s3 = boto3.client("s3")
    bucket = props["BucketName"]
    args: dict[str, Any] = {"Bucket": bucket}
    if region != "us-east-1":
        args["CreateBucketConfiguration"] = {"LocationConstraint": region}
    try:
        s3.create_bucket(**args)
    except ClientError as error:
        if error.response["Error"]["Code"] not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise
    if "PublicAccessBlockConfiguration" in props:
        s3.put_public_access_block(Bucket=bucket,
                                   PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"])
    rules = props.get("LifecycleConfiguration", {}).get("Rules", [])
    if rules:
        s3.put_bucket_lifecycle_configuration(
            Bucket=bucket, LifecycleConfiguration={"Rules": [_lifecycle_rule(r) for r in rules]})


def _create_secret(props: dict[str, Any]) -> None:
    """A generated secret, as CloudFormation's GenerateSecretString makes it (letters and digits)."""
    rules = props.get("GenerateSecretString", {})
    alphabet = string.ascii_letters + string.digits
    while True:
        value = "".join(secrets.choice(alphabet) for _ in range(int(rules.get("PasswordLength", 32))))
        if any(c.islower() for c in value) and any(c.isupper() for c in value) and any(c.isdigit() for c in value):
            break
    try:
        boto3.client("secretsmanager").create_secret(Name=props["Name"], SecretString=value)
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceExistsException":
            raise


def _create_queue(props: dict[str, Any]) -> None:
    attributes = {name: str(props[name]) for name in ("VisibilityTimeout", "MessageRetentionPeriod") if name in props}
    if "RedrivePolicy" in props:
        attributes["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
    boto3.client("sqs").create_queue(QueueName=props["QueueName"], Attributes=attributes)


_LOCAL_ROLE = "local-stack"


def _local_role() -> str:
    """The emulator wants a role for functions and state machines; it checks nothing about it."""
    iam = boto3.client("iam")
    try:
        return iam.create_role(RoleName=_LOCAL_ROLE, AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    except ClientError as error:
        if error.response["Error"]["Code"] != "EntityAlreadyExists":
            raise
        return iam.get_role(RoleName=_LOCAL_ROLE)["Role"]["Arn"]


def _placeholder_code() -> bytes:
    """The emulator stores a zip per function; invocations never run it (infra/functions.py
    dispatches them to the handler in this process)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("placeholder.py", "# invocations are dispatched in-process by infra/functions.py\n")
    return buffer.getvalue()


def _create_function(props: dict[str, Any], role: str, runtime: str) -> None:
    try:
        boto3.client("lambda").create_function(FunctionName=props["FunctionName"], Runtime=runtime, Role=role,
                                               Handler=props["Handler"], Code={"ZipFile": _placeholder_code()})
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceConflictException":
            raise


def _create_state_machine(props: dict[str, Any], role: str) -> None:
    definition = (TEMPLATE.parent / props["DefinitionUri"].replace("./", "", 1)).read_text()
    for name, value in props.get("DefinitionSubstitutions", {}).items():
        definition = definition.replace("${" + name + "}", value)
    try:
        boto3.client("stepfunctions").create_state_machine(name=props["Name"], definition=definition, roleArn=role)
    except ClientError as error:
        if error.response["Error"]["Code"] != "StateMachineAlreadyExists":
            raise


def create_all(context: Context) -> None:
    """Create every table, bucket, queue, named function and state machine of the template (existing
    ones are left as they are)."""
    resources = context.template["Resources"]
    # Queues without a redrive policy first: the others name them as their dead-letter queues.
    for _, resource in sorted(resources.items(), key=lambda kv: "RedrivePolicy" in kv[1].get("Properties", {})):
        if resource["Type"] == "AWS::DynamoDB::Table":
            _create_table(context.resolve(resource["Properties"]))
        elif resource["Type"] == "AWS::S3::Bucket":
            _create_bucket(context.resolve(resource["Properties"]), context.region)
        elif resource["Type"] == "AWS::SQS::Queue":
            _create_queue(context.resolve(resource["Properties"]))
        elif resource["Type"] == "AWS::SecretsManager::Secret":
            _create_secret(context.resolve(resource["Properties"]))
    role = _local_role()
    for resource in resources.values():
        if resource["Type"] == "AWS::Serverless::Function" and "FunctionName" in resource.get("Properties", {}):
            props = resource["Properties"]
            _create_function({"FunctionName": context.resolve(props["FunctionName"]), "Handler": props["Handler"]},
                             role, context.template["Globals"]["Function"]["Runtime"])
    for resource in resources.values():
        if resource["Type"] == "AWS::Serverless::StateMachine":
            _create_state_machine(context.resolve(resource["Properties"]), role)


def local_context(region: str) -> Context:
    account_id = boto3.client("sts", region_name=region).get_caller_identity()["Account"]
    return Context(load_template(), region, account_id)
