"""The seed article's Python examples, unchanged, pointed at Cloudlet with AWS_ENDPOINT_URL."""

import subprocess
import sys
import uuid

SEED = '''
import boto3
import requests

s3 = boto3.client("s3")
s3.create_bucket(Bucket=BUCKET)

# Upload
s3.upload_file("local-photo.jpg", "my-bucket", "users/42/avatar.jpg")

# Download
s3.download_file("my-bucket", "users/42/avatar.jpg", "fetched.jpg")

# Generate a temporary URL the browser can use directly
url = s3.generate_presigned_url(
    "get_object",
    Params={"Bucket": "my-bucket", "Key": "users/42/avatar.jpg"},
    ExpiresIn=3600,
)
assert requests.get(url).content == open("local-photo.jpg", "rb").read()
assert open("fetched.jpg", "rb").read() == open("local-photo.jpg", "rb").read()

s3.put_object(Bucket="b", Key="k", Body=b"v1")
assert s3.get_object(Bucket="b", Key="k")["Body"].read() == b"v1"  # always true
print("seed ok")
'''


def test_seed_examples_run_unchanged(fresh_cloudlet, tmp_path):
    # A private server: the article's bucket names ("my-bucket", "b") are global.
    server = fresh_cloudlet()
    (tmp_path / "local-photo.jpg").write_bytes(uuid.uuid4().bytes * 5000)
    # The article's "b" is a placeholder (too short to be a bucket name on AWS too): the
    # put-then-get lines run against "my-bucket" instead, otherwise unchanged.
    script = SEED.replace("BUCKET", '"my-bucket"').replace('Bucket="b"', 'Bucket="my-bucket"')
    env = {"AWS_ENDPOINT_URL": server.endpoint, "AWS_ACCESS_KEY_ID": "test",
           "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1",
           "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "seed ok" in result.stdout
