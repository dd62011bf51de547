"""Browser-based uploads: boto3's generate_presigned_post, then a plain multipart POST."""

import base64
import hashlib
import json
import uuid
import xml.etree.ElementTree as ET
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from botocore.config import Config


@pytest.fixture(scope="module")
def bucket(cloudlet):
    name = f"post-{uuid.uuid4().hex[:16]}"
    cloudlet.client("s3").create_bucket(Bucket=name)
    return name


def client(cloudlet, version: str = "s3v4"):
    return cloudlet.client("s3", config=Config(signature_version=version,
                                               retries={"max_attempts": 1}))


def error_code(response) -> str:
    return ET.fromstring(response.content).findtext("Code")


@pytest.mark.parametrize("version", ["s3v4", "s3"])
def test_post_upload_stores_the_object_with_its_type_and_metadata(cloudlet, bucket, version):
    s3 = client(cloudlet, version)
    key = f"form/{version}/{uuid.uuid4().hex}.txt"
    fields = {"Content-Type": "text/plain", "x-amz-meta-color": "blue",
              "Cache-Control": "max-age=60"}
    post = s3.generate_presigned_post(
        bucket, key, Fields=fields,
        Conditions=[{"Content-Type": "text/plain"}, {"x-amz-meta-color": "blue"},
                    {"Cache-Control": "max-age=60"}, ["content-length-range", 1, 1024]],
        ExpiresIn=300)
    response = requests.post(post["url"], data=post["fields"],
                             files={"file": ("hello.txt", b"hello from a form")})
    assert response.status_code == 204, response.text
    assert response.content == b""
    got = s3.get_object(Bucket=bucket, Key=key)
    assert got["Body"].read() == b"hello from a form"
    assert got["ContentType"] == "text/plain"
    assert got["CacheControl"] == "max-age=60"
    assert got["Metadata"] == {"color": "blue"}
    assert response.headers["ETag"] == got["ETag"]
    assert response.headers["Location"].endswith(f"/{bucket}/{key}")


def test_filename_is_substituted_into_the_key(cloudlet, bucket):
    s3 = client(cloudlet)
    post = s3.generate_presigned_post(bucket, "uploads/${filename}", ExpiresIn=300)
    response = requests.post(post["url"], data=post["fields"],
                             files={"file": ("photo.jpg", b"\xff\xd8 jpeg")})
    assert response.status_code == 204, response.text
    got = s3.get_object(Bucket=bucket, Key="uploads/photo.jpg")
    assert got["Body"].read() == b"\xff\xd8 jpeg"
    assert got["ContentType"] == "binary/octet-stream"


def test_success_action_status_201_answers_post_response_xml(cloudlet, bucket):
    s3 = client(cloudlet)
    key = f"created/{uuid.uuid4().hex}"
    post = s3.generate_presigned_post(bucket, key, Fields={"success_action_status": "201"},
                                      Conditions=[{"success_action_status": "201"}],
                                      ExpiresIn=300)
    response = requests.post(post["url"], data=post["fields"], files={"file": b"created"})
    assert response.status_code == 201, response.text
    root = ET.fromstring(response.content)
    assert root.tag == "PostResponse"
    etag = s3.head_object(Bucket=bucket, Key=key)["ETag"]
    assert root.findtext("Bucket") == bucket
    assert root.findtext("Key") == key
    assert root.findtext("ETag") == etag
    assert root.findtext("Location").endswith(f"/{bucket}/{key}")


def test_success_action_status_200_and_redirect(cloudlet, bucket):
    s3 = client(cloudlet)
    post = s3.generate_presigned_post(bucket, "ok", Fields={"success_action_status": "200"},
                                      Conditions=[{"success_action_status": "200"}])
    response = requests.post(post["url"], data=post["fields"], files={"file": b"ok"})
    assert (response.status_code, response.content) == (200, b"")
    target = "http://example.invalid/done?from=form"
    post = s3.generate_presigned_post(bucket, "redirected",
                                      Fields={"success_action_redirect": target},
                                      Conditions=[{"success_action_redirect": target}])
    response = requests.post(post["url"], data=post["fields"], files={"file": b"moved"},
                             allow_redirects=False)
    assert response.status_code == 303, response.text
    location = urlsplit(response.headers["Location"])
    assert location.netloc == "example.invalid"
    query = parse_qs(location.query)
    assert query["from"] == ["form"]
    assert query["bucket"] == [bucket]
    assert query["key"] == ["redirected"]
    assert query["etag"] == [s3.head_object(Bucket=bucket, Key="redirected")["ETag"]]


def test_tagging_and_storage_class_fields(cloudlet, bucket):
    s3 = client(cloudlet)
    tagging = ("<Tagging><TagSet><Tag><Key>team</Key><Value>web</Value></Tag>"
               "</TagSet></Tagging>")
    fields = {"tagging": tagging, "x-amz-storage-class": "STANDARD_IA"}
    post = s3.generate_presigned_post(bucket, "tagged", Fields=fields,
                                      Conditions=[{k: v} for k, v in fields.items()])
    response = requests.post(post["url"], data=post["fields"], files={"file": b"t"})
    assert response.status_code == 204, response.text
    assert s3.get_object_tagging(Bucket=bucket, Key="tagged")["TagSet"] == [
        {"Key": "team", "Value": "web"}]
    assert s3.head_object(Bucket=bucket, Key="tagged")["StorageClass"] == "STANDARD_IA"


def test_content_length_range_is_enforced(cloudlet, bucket):
    s3 = client(cloudlet)
    post = s3.generate_presigned_post(bucket, "bounded",
                                      Conditions=[["content-length-range", 2, 8]])
    response = requests.post(post["url"], data=post["fields"], files={"file": b"x" * 9})
    assert response.status_code == 400
    assert error_code(response) == "EntityTooLarge"
    response = requests.post(post["url"], data=post["fields"], files={"file": b"x"})
    assert response.status_code == 400
    assert error_code(response) == "EntityTooSmall"
    with pytest.raises(s3.exceptions.ClientError):
        s3.head_object(Bucket=bucket, Key="bounded")


@pytest.mark.parametrize("version", ["s3v4", "s3"])
def test_tampered_signature_is_refused(cloudlet, bucket, version):
    s3 = client(cloudlet, version)
    post = s3.generate_presigned_post(bucket, "tampered")
    fields = dict(post["fields"])
    name = "x-amz-signature" if version == "s3v4" else "signature"
    fields[name] = ("0" * 64) if version == "s3v4" else "AAAAAAAAAAAAAAAAAAAAAAAAAAA="
    response = requests.post(post["url"], data=fields, files={"file": b"evil"})
    assert response.status_code == 403
    assert error_code(response) == "SignatureDoesNotMatch"


def test_expired_policy_is_refused(cloudlet, bucket):
    s3 = client(cloudlet)
    post = s3.generate_presigned_post(bucket, "late", ExpiresIn=-60)
    response = requests.post(post["url"], data=post["fields"], files={"file": b"late"})
    assert response.status_code == 403
    root = ET.fromstring(response.content)
    assert root.findtext("Code") == "AccessDenied"
    assert root.findtext("Message") == "Invalid according to Policy: Policy expired."


def test_fields_outside_the_policy_are_refused(cloudlet, bucket):
    s3 = client(cloudlet)
    post = s3.generate_presigned_post(bucket, "strict")
    data = {**post["fields"], "x-amz-meta-sneaky": "yes"}
    response = requests.post(post["url"], data=data, files={"file": b"s"})
    assert response.status_code == 403
    root = ET.fromstring(response.content)
    assert root.findtext("Code") == "AccessDenied"
    assert root.findtext("Message") == ("Invalid according to Policy: Extra input fields: "
                                        "x-amz-meta-sneaky")
    changed = {**post["fields"], "key": "elsewhere"}
    response = requests.post(post["url"], data=changed, files={"file": b"s"})
    assert response.status_code == 403
    assert "Policy Condition failed" in ET.fromstring(response.content).findtext("Message")
    with pytest.raises(s3.exceptions.ClientError):
        s3.head_object(Bucket=bucket, Key="elsewhere")


def test_post_without_a_file_is_refused(cloudlet, bucket):
    s3 = client(cloudlet)
    post = s3.generate_presigned_post(bucket, "nofile")
    response = requests.post(post["url"], data=post["fields"],
                             files={"x-ignore-note": (None, "no file here")})
    assert response.status_code == 400, response.text
    assert error_code(response) == "InvalidArgument"
    assert "exactly one file" in ET.fromstring(response.content).findtext("Message")


def test_virtual_hosted_post(cloudlet, bucket):
    s3 = client(cloudlet)
    post = s3.generate_presigned_post(bucket, "virtual/${filename}")
    port = urlsplit(cloudlet.endpoint).port
    response = requests.post(f"{cloudlet.endpoint}/", data=post["fields"],
                             files={"file": ("v.bin", b"virtual")},
                             headers={"Host": f"{bucket}.s3.localhost:{port}"})
    assert response.status_code == 204, response.text
    assert response.headers["Location"] == f"http://{bucket}.s3.localhost:{port}/virtual/v.bin"
    assert s3.get_object(Bucket=bucket, Key="virtual/v.bin")["Body"].read() == b"virtual"


def test_filename_in_other_fields_and_a_windows_path(cloudlet, bucket):
    s3 = client(cloudlet)
    fields = {"x-amz-meta-original": "${filename}"}
    post = s3.generate_presigned_post(bucket, "named/${filename}", Fields=fields,
                                      Conditions=[{"x-amz-meta-original": "${filename}"}])
    response = requests.post(post["url"], data=post["fields"],
                             files={"file": ("C:\\Users\\me\\report.csv", b"a,b")})
    assert response.status_code == 204, response.text
    head = s3.head_object(Bucket=bucket, Key="named/report.csv")
    assert head["Metadata"] == {"original": "report.csv"}


def test_content_md5_field_is_checked(cloudlet, bucket):
    s3 = client(cloudlet)
    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    post = s3.generate_presigned_post(bucket, "digest", Fields={"Content-MD5": wrong},
                                      Conditions=[{"Content-MD5": wrong}])
    response = requests.post(post["url"], data=post["fields"], files={"file": b"payload"})
    assert response.status_code == 400
    assert error_code(response) == "BadDigest"
    with pytest.raises(s3.exceptions.ClientError):
        s3.head_object(Bucket=bucket, Key="digest")


def test_iam_user_needs_put_object_to_post(cloudlet, bucket):
    iam = cloudlet.client("iam")
    name = f"poster-{uuid.uuid4().hex[:10]}"
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="uploads", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "s3:PutObject",
            "Resource": f"arn:aws:s3:::{bucket}/allowed/*"}]}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    s3 = cloudlet.client("s3", aws_access_key_id=key["AccessKeyId"],
                         aws_secret_access_key=key["SecretAccessKey"],
                         config=Config(retries={"max_attempts": 1}))
    post = s3.generate_presigned_post(bucket, "allowed/by-user")
    response = requests.post(post["url"], data=post["fields"], files={"file": b"mine"})
    assert response.status_code == 204, response.text
    post = s3.generate_presigned_post(bucket, "elsewhere/by-user")
    response = requests.post(post["url"], data=post["fields"], files={"file": b"mine"})
    assert response.status_code == 403
    assert error_code(response) == "AccessDenied"
    root = client(cloudlet)
    assert root.get_object(Bucket=bucket, Key="allowed/by-user")["Body"].read() == b"mine"
    with pytest.raises(root.exceptions.ClientError):
        root.head_object(Bucket=bucket, Key="elsewhere/by-user")


def test_unsigned_post_to_a_private_bucket_is_denied(cloudlet, bucket):
    url = f"{cloudlet.endpoint}/{bucket}"
    response = requests.post(url, data={"key": "anonymous"}, files={"file": b"who?"})
    assert response.status_code == 403, response.text
    assert error_code(response) == "AccessDenied"
    with pytest.raises(client(cloudlet).exceptions.ClientError):
        client(cloudlet).head_object(Bucket=bucket, Key="anonymous")


def test_form_fields_before_the_file_are_limited_to_20_kib(cloudlet, bucket):
    s3 = client(cloudlet)
    key = f"big-fields/{uuid.uuid4().hex}"
    post = s3.generate_presigned_post(bucket, key, Fields={"x-amz-meta-pad": "p" * 21000},
                                      Conditions=[{"x-amz-meta-pad": "p" * 21000}],
                                      ExpiresIn=300)
    response = requests.post(post["url"], data=post["fields"], files={"file": ("f", b"data")})
    assert response.status_code == 400, response.text
    assert error_code(response) == "MaxPostPreDataLengthExceeded"
    assert ET.fromstring(response.content).findtext("MaxPostPreDataLengthBytes") == "20480"
    assert s3.list_objects_v2(Bucket=bucket, Prefix=key)["KeyCount"] == 0
    # Fields just under the limit are read.
    cache = "max-age=60, " + "x" * 6000
    post = s3.generate_presigned_post(bucket, key, Fields={"Cache-Control": cache},
                                      Conditions=[{"Cache-Control": cache}], ExpiresIn=300)
    response = requests.post(post["url"], data=post["fields"], files={"file": ("f", b"data")})
    assert response.status_code == 204, response.text
    assert s3.head_object(Bucket=bucket, Key=key)["CacheControl"] == cache
