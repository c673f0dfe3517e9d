"""Fixtures for the API tests: a boto3 EC2 client pointed at a running `snaplab serve` (started by the Swift
test that runs pytest, which passes the endpoint, keys and a boot snapshot in the environment)."""
import os

import boto3
import pytest
from botocore.config import Config


@pytest.fixture(scope="session")
def endpoint():
    return os.environ["SNAPLAB_ENDPOINT"]


@pytest.fixture(scope="session")
def keys():
    return os.environ["SNAPLAB_ACCESS_KEY_ID"], os.environ["SNAPLAB_SECRET_ACCESS_KEY"]


@pytest.fixture(scope="session")
def ec2(endpoint, keys):
    return boto3.client(
        "ec2",
        endpoint_url=endpoint,
        region_name="snaplab",
        aws_access_key_id=keys[0],
        aws_secret_access_key=keys[1],
        config=Config(retries={"max_attempts": 1}),
    )


@pytest.fixture(scope="session")
def boot_snapshot():
    return os.environ["SNAPLAB_BOOT_SNAPSHOT"]


FAST = {"Delay": 1, "MaxAttempts": 300}
