"""CORS from a real browser: headless Chromium loads a page from another origin, which
uploads to a pre-signed PUT URL with fetch() (a preflighted request), then downloads the
object; a bucket without CORS rules stays closed to the page."""

from __future__ import annotations

import functools
import html
import http.server
import json
import re
import shutil
import subprocess
import threading
import uuid

import pytest
import requests
from harness import free_port

CHROMIUM = next((p for p in (shutil.which("chromium"), shutil.which("chromium-browser"),
                             shutil.which("google-chrome")) if p), None)

PAGE = """<!doctype html>
<html><body><pre id="result">pending</pre>
<script>
const config = %s;
async function attempt(url, init) {
  try {
    const response = await fetch(url, init);
    return {status: response.status, etag: response.headers.get("ETag"),
            body: await response.text()};
  } catch (error) {
    return {error: String(error)};
  }
}
(async () => {
  const result = {};
  result.closed = await attempt(config.closedPut, {method: "PUT", body: "nope"});
  result.put = await attempt(config.put, {method: "PUT", body: config.text,
                                          headers: {"Content-Type": "text/plain"}});
  result.get = await attempt(config.get, {});
  document.getElementById("result").textContent = JSON.stringify(result);
})();
</script></body></html>
"""


@pytest.fixture
def page_server(tmp_path):
    """A tiny web server on another origin (another port) serving the test page."""
    port = free_port()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield tmp_path, f"http://127.0.0.1:{port}"
    httpd.shutdown()
    httpd.server_close()


def run_chromium(url: str, profile) -> str:
    args = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--disable-dev-shm-usage", f"--user-data-dir={profile}",
            "--virtual-time-budget=15000", "--dump-dom", url]
    done = subprocess.run(args, capture_output=True, text=True, timeout=120)
    return done.stdout


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed (Debian "
                    "packages chromium and chromium-driver; scripts/sysdeps.sh installs them)")
def test_browser_uploads_and_downloads_across_origins(cloudlet, page_server, tmp_path):
    directory, origin = page_server
    s3 = cloudlet.client("s3")
    bucket, closed = f"cors-{uuid.uuid4().hex[:16]}", f"closed-{uuid.uuid4().hex[:16]}"
    s3.create_bucket(Bucket=bucket)
    s3.create_bucket(Bucket=closed)
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [{
        "AllowedOrigins": [origin], "AllowedMethods": ["GET", "PUT"],
        "AllowedHeaders": ["*"], "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 600}]})
    text = f"uploaded by a browser {uuid.uuid4()}"
    config = {
        # The browser sends this Content-Type; a pre-signed URL must have signed it.
        "put": s3.generate_presigned_url("put_object", Params={
            "Bucket": bucket, "Key": "from-browser.txt", "ContentType": "text/plain"}),
        "get": s3.generate_presigned_url("get_object", Params={"Bucket": bucket,
                                                               "Key": "from-browser.txt"}),
        "closedPut": s3.generate_presigned_url("put_object", Params={"Bucket": closed,
                                                                     "Key": "x.txt"}),
        "text": text,
    }
    (directory / "page.html").write_text(PAGE % json.dumps(config))

    dom = run_chromium(f"{origin}/page.html", tmp_path / "profile")
    found = re.search(r'<pre id="result">(.*?)</pre>', dom, re.S)
    assert found, f"no result in the page:\n{dom[:2000]}"
    result = json.loads(html.unescape(found.group(1)))

    assert result["put"].get("status") == 200, result
    assert result["put"]["etag"], result  # exposed by the rule's ExposeHeaders
    assert result["get"] == {"status": 200, "etag": result["put"]["etag"], "body": text}
    # No CORS rules: the preflight fails, and the browser refuses the request.
    assert "error" in result["closed"], result
    assert "Contents" not in s3.list_objects_v2(Bucket=closed)
    assert s3.get_object(Bucket=bucket, Key="from-browser.txt")["Body"].read() == text.encode()


def test_preflight_answers(cloudlet):
    """The preflight itself, as any HTTP client sees it."""
    s3 = cloudlet.client("s3")
    bucket = f"cors-{uuid.uuid4().hex[:16]}"
    s3.create_bucket(Bucket=bucket)
    url = f"{cloudlet.endpoint}/{bucket}/some/key"
    ask = {"Origin": "https://app.example.com", "Access-Control-Request-Method": "PUT",
           "Access-Control-Request-Headers": "Content-Type, X-Amz-Meta-Owner"}
    closed = requests.options(url, headers=ask, timeout=10)
    assert closed.status_code == 403
    assert "CORS is not enabled for this bucket" in closed.text

    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
        {"AllowedOrigins": ["https://*.example.com"], "AllowedMethods": ["PUT", "POST"],
         "AllowedHeaders": ["content-type", "x-amz-meta-*"], "MaxAgeSeconds": 120},
        {"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}]})
    allowed = requests.options(url, headers=ask, timeout=10)
    assert allowed.status_code == 200
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert allowed.headers["Access-Control-Allow-Methods"] == "PUT, POST"
    assert allowed.headers["Access-Control-Allow-Headers"] == "content-type, x-amz-meta-owner"
    assert allowed.headers["Access-Control-Max-Age"] == "120"

    other_header = requests.options(url, headers={**ask, "Access-Control-Request-Headers":
                                                  "X-Other"}, timeout=10)
    assert other_header.status_code == 403
    anywhere = requests.options(url, headers={"Origin": "https://elsewhere.test",
                                              "Access-Control-Request-Method": "GET"},
                                timeout=10)
    assert anywhere.status_code == 200
    assert anywhere.headers["Access-Control-Allow-Origin"] == "*"
    no_origin = requests.options(url, headers={"Access-Control-Request-Method": "GET"},
                                 timeout=10)
    assert no_origin.status_code == 400
