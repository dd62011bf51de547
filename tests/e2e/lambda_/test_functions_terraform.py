"""Terraform's AWS provider creates and reads back a Lambda function with its role, an alias,
a permission and a function URL (one apply: each start of the provider costs seconds)."""

from __future__ import annotations

import io
import json
import zipfile

from harness import unique
from terraform import Terraform, provider_block

MAIN = '''
resource "aws_iam_role" "fn" {
  name = "NAME-role"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole",
                   Principal = { Service = "lambda.amazonaws.com" } }]
  })
}

resource "aws_lambda_function" "hello" {
  function_name    = "NAME"
  role             = aws_iam_role.fn.arn
  runtime          = "python3.12"
  handler          = "app.handler"
  filename         = "${path.module}/function.zip"
  source_code_hash = filebase64sha256("${path.module}/function.zip")
  memory_size      = 128
  publish          = true
  environment {
    variables = { GREETING = "hi" }
  }
  tags = { team = "platform" }
}

resource "aws_lambda_alias" "live" {
  name             = "live"
  function_name    = aws_lambda_function.hello.function_name
  function_version = aws_lambda_function.hello.version
}

resource "aws_lambda_permission" "s3" {
  statement_id  = "s3"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.hello.function_name
  principal     = "s3.amazonaws.com"
  source_arn    = "arn:aws:s3:::some-bucket"
}

resource "aws_lambda_function_url" "hello" {
  function_name      = aws_lambda_function.hello.function_name
  authorization_type = "NONE"
}

output "arn" { value = aws_lambda_function.hello.arn }
output "version" { value = aws_lambda_function.hello.version }
output "url" { value = aws_lambda_function_url.hello.function_url }
'''


def test_terraform_manages_a_function(cloudlet, tmp_path):
    tf = Terraform(tmp_path)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return 'tf'\n")
    (tmp_path / "function.zip").write_bytes(buffer.getvalue())
    header = provider_block(cloudlet.endpoint, ["iam", "lambda", "sts"])
    name = unique("tf-hello")
    (tmp_path / "main.tf").write_text(header + MAIN.replace("NAME", name))
    tf.init()
    tf.apply()
    assert tf.output("arn") == f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    assert tf.output("version") == "1"
    assert ".lambda-url.us-east-1.localhost" in tf.output("url")
    lam = cloudlet.client("lambda")
    policy = json.loads(lam.get_policy(FunctionName=name)["Policy"])
    assert policy["Statement"][0]["Principal"] == {"Service": "s3.amazonaws.com"}
    assert lam.get_alias(FunctionName=name, Name="live")["FunctionVersion"] == "1"
