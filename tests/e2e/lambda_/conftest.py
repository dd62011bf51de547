"""The Lambda client and execution role the Invoke, trigger, limit and seed tests share; a
test module that wants another client or role defines its own `lam` or `role`."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # invoke_support, the helpers the tests share

from invoke_support import invoke_client, make_role  # noqa: E402


@pytest.fixture(scope="module")
def lam(cloudlet):
    return invoke_client(cloudlet)


@pytest.fixture(scope="module")
def role(cloudlet):
    return make_role(cloudlet.client("iam"))
