"""Terraform's AWS provider against Cloudlet."""

from __future__ import annotations

from terraform import Terraform, provider_block


def test_terraform_reads_caller_identity(cloudlet, tmp_path):
    tf = Terraform(tmp_path)
    (tmp_path / "main.tf").write_text(provider_block(cloudlet.endpoint, ["sts"]) + '''
data "aws_caller_identity" "current" {}

output "account_id" {
  value = data.aws_caller_identity.current.account_id
}
output "arn" {
  value = data.aws_caller_identity.current.arn
}
''')
    tf.init()
    tf.apply()
    assert tf.output("account_id") == "000000000000"
    assert tf.output("arn") == "arn:aws:iam::000000000000:root"
