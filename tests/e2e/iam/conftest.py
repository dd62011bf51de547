import pytest


@pytest.fixture
def iam(cloudlet):
    return cloudlet.client("iam")
