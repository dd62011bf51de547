"""Terraform's AWS provider builds a bucket with its configuration, finds nothing to change
on a second plan, and destroys it all."""

from __future__ import annotations

import json
import uuid

from botocore.exceptions import ClientError
from terraform import Terraform, provider_block

CONFIG = '''
resource "aws_s3_bucket" "site" {
  bucket = "%(bucket)s"
  tags = { team = "storage" }
}

resource "aws_s3_bucket_versioning" "site" {
  bucket = aws_s3_bucket.site.id
  versioning_configuration { status = "Enabled" }
}

resource "aws_s3_bucket_public_access_block" "site" {
  bucket                  = aws_s3_bucket.site.id
  block_public_acls       = true
  ignore_public_acls      = true
  block_public_policy     = false
  restrict_public_buckets = false
}

resource "aws_s3_bucket_lifecycle_configuration" "site" {
  bucket = aws_s3_bucket.site.id
  rule {
    id     = "archive-logs"
    status = "Enabled"
    filter { prefix = "logs/" }
    transition {
      days          = 30
      storage_class = "STANDARD_IA"
    }
    transition {
      days          = 90
      storage_class = "GLACIER"
    }
    expiration { days = 365 }
    noncurrent_version_expiration { noncurrent_days = 30 }
  }
  rule {
    id     = "uploads"
    status = "Enabled"
    filter {}
    abort_incomplete_multipart_upload { days_after_initiation = 7 }
  }
  depends_on = [aws_s3_bucket_versioning.site]
}

resource "aws_s3_bucket_cors_configuration" "site" {
  bucket = aws_s3_bucket.site.id
  cors_rule {
    allowed_headers = ["*"]
    allowed_methods = ["GET", "PUT"]
    allowed_origins = ["https://app.example.com"]
    expose_headers  = ["ETag"]
    max_age_seconds = 3000
  }
}

resource "aws_s3_bucket_policy" "site" {
  bucket = aws_s3_bucket.site.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "PublicRead"
      Effect    = "Allow"
      Principal = "*"
      Action    = "s3:GetObject"
      Resource  = "${aws_s3_bucket.site.arn}/public/*"
    }]
  })
  depends_on = [aws_s3_bucket_public_access_block.site]
}

output "arn" {
  value = aws_s3_bucket.site.arn
}
'''


def test_terraform_applies_plans_clean_and_destroys(cloudlet, tmp_path):
    tf = Terraform(tmp_path)
    bucket = f"tf-{uuid.uuid4().hex[:16]}"
    (tmp_path / "main.tf").write_text(provider_block(cloudlet.endpoint, ["s3", "sts", "iam"]) +
                                      CONFIG % {"bucket": bucket})
    tf.init()
    tf.apply()
    assert tf.output("arn") == f"arn:aws:s3:::{bucket}"

    s3 = cloudlet.client("s3")
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert {r["ID"] for r in rules} == {"archive-logs", "uploads"}
    assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"][0]["AllowedOrigins"] == [
        "https://app.example.com"]
    statement = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])["Statement"][0]
    assert statement["Resource"] == f"arn:aws:s3:::{bucket}/public/*"
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"][
        "BlockPublicPolicy"] is False
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "team",
                                                                "Value": "storage"}]

    plan = tf.run("plan", "-detailed-exitcode", "-input=false")
    assert plan.returncode == 0, plan.stdout + plan.stderr

    destroy = tf.run("destroy", "-auto-approve", "-input=false")
    assert destroy.returncode == 0, destroy.stdout + destroy.stderr
    try:
        s3.head_bucket(Bucket=bucket)
        raise AssertionError("the bucket survived terraform destroy")
    except ClientError as error:
        assert error.response["Error"]["Code"] == "404"
