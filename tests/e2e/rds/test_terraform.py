"""Terraform's aws_db_instance against Cloudlet: apply waits for `available`, the outputs
are a real endpoint, destroy deletes the instance."""

import os

import psycopg
import pytest
from harness import error_of
from rdstest import PASSWORD
from terraform import Terraform, provider_block


@pytest.mark.skipif(not os.environ.get("CLOUDLET_TEST_TERRAFORM_RDS"),
                    reason="takes ~4 minutes (Terraform's RDS waiters wait 30 s before each "
                    "poll); set CLOUDLET_TEST_TERRAFORM_RDS=1 to run it")
def test_terraform_creates_and_destroys_a_postgres_instance(rds_server, rds, ca_bundle,
                                                           tmp_path):
    tf = Terraform(tmp_path)
    (tmp_path / "main.tf").write_text(provider_block(rds_server.endpoint, ["rds", "sts"]) + f'''
resource "aws_db_instance" "app" {{
  identifier              = "tf-app"
  engine                  = "postgres"
  instance_class          = "db.t3.micro"
  allocated_storage       = 20
  username                = "master"
  password                = "{PASSWORD}"
  db_name                 = "api"
  backup_retention_period = 1
  skip_final_snapshot     = true
  tags = {{ team = "web" }}
}}

output "address" {{ value = aws_db_instance.app.address }}
output "port" {{ value = aws_db_instance.app.port }}
''')
    tf.init()
    tf.apply()
    with psycopg.connect(host=tf.output("address"), port=int(tf.output("port")), user="master",
                         password=PASSWORD, dbname="api", sslmode="verify-full",
                         sslrootcert=ca_bundle, connect_timeout=5) as conn:
        assert conn.execute("SELECT current_database()").fetchone()[0] == "api"
    result = tf.run("destroy", "-auto-approve", "-input=false")
    assert result.returncode == 0, result.stderr + result.stdout
    assert error_of(rds.describe_db_instances, DBInstanceIdentifier="tf-app")[0] == \
        "DBInstanceNotFound"
