"""Function URLs' configuration: Create/Get/Update/Delete/ListFunctionUrlConfigs.

A function (unqualified) or an alias gets one URL, identified by a 32-character url-id:

    http://<url-id>.lambda-url.<region>.localhost:<port>/      FunctionUrl, AWS's form
    http://127.0.0.1:<port>/_cloudlet/lambda/url/<url-id>/...  the same, on any resolver

Serving them (API Gateway v2 payload format, AuthType NONE or AWS_IAM, Cors) is the Invoke
side's: `function_url_target(url_id)` gives (account, region, name, qualifier, config).
"""

from __future__ import annotations

import secrets
import string
from urllib.parse import urlsplit

from cloudlet.services.base import RequestContext
from cloudlet.services.lambda_ import errors
from cloudlet.services.lambda_.records import function_arn, paginate, timestamp

URL_PATH = "/_cloudlet/lambda/url/"
_ALPHABET = string.ascii_lowercase + string.digits


def url_of(endpoint: str, url_id: str, region: str) -> str:
    parts = urlsplit(endpoint or "http://127.0.0.1:4566")
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{url_id}.lambda-url.{region}.localhost{port}/"


class UrlOperations:
    def _url_target(self, ctx: RequestContext, params: dict) -> tuple[str, str]:
        name, qualifier = self._own(ctx, params)
        if qualifier and (qualifier.isdigit() or qualifier == "$LATEST"):
            raise errors.Validation(
                f"1 validation error detected: Value '{qualifier}' at 'qualifier' failed to "
                "satisfy constraint: Member must satisfy regular expression pattern: "
                "((?!^\\d+$)^[0-9a-zA-Z-_]+$)")
        if qualifier:
            self.version_doc(ctx.account_id, ctx.region, name, qualifier)
        return name, qualifier or ""

    def _url_public(self, doc: dict) -> dict:
        return {k: v for k, v in doc.items() if not k.startswith("_")}

    def create_function_url_config(self, ctx: RequestContext, params: dict) -> dict:
        name, qualifier = self._url_target(ctx, params)
        account, region = ctx.account_id, ctx.region
        arn = function_arn(account, region, name, qualifier or None)
        if self.lambdas.get("lambda_url_configs", account, region, name, qualifier):
            raise errors.ResourceConflict(
                f"Failed to create function url config for [functionArn = {arn}]. Error "
                "message:  FunctionUrlConfig exists for this Lambda function")
        url_id = "".join(secrets.choice(_ALPHABET) for _ in range(32))
        now = timestamp()
        doc = {"FunctionUrl": url_of(self.endpoint, url_id, region), "FunctionArn": arn,
               "AuthType": params["AuthType"], "CreationTime": now, "LastModifiedTime": now,
               "InvokeMode": params.get("InvokeMode") or "BUFFERED", "_url_id": url_id}
        if params.get("Cors") is not None:
            doc["Cors"] = params["Cors"]
        self.lambdas.put("lambda_url_configs", account, region, name, qualifier, doc,
                         url_id=url_id)
        out = self._url_public(doc)
        out.pop("LastModifiedTime")
        return out

    def _url_config(self, ctx: RequestContext, params: dict) -> tuple[str, str, dict]:
        name, qualifier = self._url_target(ctx, params)
        doc = self.lambdas.get("lambda_url_configs", ctx.account_id, ctx.region, name, qualifier)
        if doc is None:
            raise errors.ResourceNotFound("The resource you requested does not exist.")
        return name, qualifier, doc

    def get_function_url_config(self, ctx: RequestContext, params: dict) -> dict:
        return self._url_public(self._url_config(ctx, params)[2])

    def update_function_url_config(self, ctx: RequestContext, params: dict) -> dict:
        name, qualifier, doc = self._url_config(ctx, params)
        for member in ("AuthType", "Cors", "InvokeMode"):
            if params.get(member) is not None:
                doc[member] = params[member]
        doc["LastModifiedTime"] = timestamp()
        self.lambdas.put("lambda_url_configs", ctx.account_id, ctx.region, name, qualifier, doc,
                         url_id=doc["_url_id"])
        return self._url_public(doc)

    def delete_function_url_config(self, ctx: RequestContext, params: dict) -> dict:
        name, qualifier, _ = self._url_config(ctx, params)
        self.lambdas.delete("lambda_url_configs", ctx.account_id, ctx.region, name, qualifier)
        return {}

    def list_function_url_configs(self, ctx: RequestContext, params: dict) -> dict:
        name, _ = self._own(ctx, params, qualifier="")
        docs = self.lambdas.items("lambda_url_configs", ctx.account_id, ctx.region, name)
        page, marker = paginate(docs, params, lambda d: d["FunctionArn"])
        result = {"FunctionUrlConfigs": [self._url_public(d) for d in page]}
        if marker:
            result["NextMarker"] = marker
        return result

    def function_url_target(self, url_id: str) -> tuple[str, str, str, str, dict] | None:
        """(account, region, function name, qualifier or "", configuration) of a url-id."""
        found = self.lambdas.url_config(url_id)
        if found is None:
            return None
        account, region, name, qualifier, doc = found
        return account, region, name, qualifier, self._url_public(doc)
