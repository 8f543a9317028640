"""Secrets in SSM Parameter Store (SecureString)."""

from __future__ import annotations

from botocore.exceptions import ClientError

from chalicelib.aws import client


def get_secret(name: str) -> str | None:
    try:
        return client("ssm").get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
    except ClientError as error:
        if error.response["Error"]["Code"] == "ParameterNotFound":
            return None
        raise


def put_secret(name: str, value: str) -> None:
    """Store or replace a secret."""
    client("ssm").put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=True)


def delete_secret(name: str) -> None:
    try:
        client("ssm").delete_parameter(Name=name)
    except ClientError as error:
        if error.response["Error"]["Code"] != "ParameterNotFound":
            raise


def create_secret(name: str, value: str) -> bool:
    """Store a new secret; False when one already exists (another instance created it first)."""
    try:
        client("ssm").put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=False)
        return True
    except ClientError as error:
        if error.response["Error"]["Code"] == "ParameterAlreadyExists":
            return False
        raise
