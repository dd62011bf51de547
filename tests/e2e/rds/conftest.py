"""One Cloudlet with a known data directory for the RDS tests (the CA bundle is a file in
it, printed by `cloudlet rds ca-bundle`), and helpers to launch and reach instances."""

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # rdstest, the helpers the tests share

from harness import REPO, CloudletProcess, unique  # noqa: E402
from rdstest import PASSWORD, wait_for  # noqa: E402


@pytest.fixture(scope="session")
def rds_server():
    # Not under pytest's basetemp: every pytest session on the machine resets
    # /tmp/pytest-of-<user> to 0700, which locks the database servers' own user out.
    data = Path(tempfile.mkdtemp(prefix="cloudlet-rds-test-")) / "data"
    server = CloudletProcess(data_dir=data).start()
    yield server
    server.stop(timeout=60)
    shutil.rmtree(data.parent, ignore_errors=True)


@pytest.fixture(scope="session")
def rds(rds_server):
    return rds_server.client("rds")


@pytest.fixture(scope="session")
def ca_bundle(rds_server, tmp_path_factory) -> str:
    printed = subprocess.run([sys.executable, "-m", "cloudlet", "rds", "ca-bundle",
                              "--data-dir", str(rds_server.data_dir)], cwd=REPO,
                             capture_output=True, text=True, check=True).stdout
    assert printed.startswith("-----BEGIN CERTIFICATE-----")
    path = tmp_path_factory.mktemp("ca") / "rds-ca-bundle.pem"
    path.write_text(printed)
    return str(path)


@pytest.fixture(scope="session")
def launch(rds):
    """Create an instance (postgres unless told) and wait until it is available."""
    def launch(wait: bool = True, **params) -> dict:
        params = {"DBInstanceIdentifier": unique("db"), "Engine": "postgres",
                  "DBInstanceClass": "db.t3.micro", "AllocatedStorage": 20,
                  "MasterUsername": "master", "MasterUserPassword": PASSWORD,
                  "BackupRetentionPeriod": 0, **params}
        created = rds.create_db_instance(**params)["DBInstance"]
        assert created["DBInstanceStatus"] == "creating"
        if not wait:
            return created
        return wait_for(rds, params["DBInstanceIdentifier"])
    return launch


@pytest.fixture(scope="session")
def connect(ca_bundle):
    """psycopg to an instance's endpoint with sslmode=verify-full against the CA bundle."""
    import psycopg

    def connect(db: dict, dbname: str = "postgres", **kwargs):
        return psycopg.connect(host=db["Endpoint"]["Address"], port=db["Endpoint"]["Port"],
                               user=db["MasterUsername"], password=PASSWORD, dbname=dbname,
                               sslmode="verify-full", sslrootcert=ca_bundle, connect_timeout=5,
                               autocommit=True, **kwargs)
    return connect
