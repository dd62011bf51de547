"""IAM's OpenID Connect providers, the identity providers AssumeRoleWithWebIdentity trusts.

`OidcProviderOperations` is a mixin of IamProvider (it needs `self.store`); the module
function `find_provider` is what STS reads, through `reads.py`.
"""

from __future__ import annotations

import datetime as dt
import json

from cloudlet import clock
from cloudlet.oidc_urls import is_local, provider_path
from cloudlet.services.base import RequestContext
from cloudlet.services.iam.errors import (
    EntityAlreadyExists,
    InvalidInput,
    LimitExceeded,
    NoSuchEntity,
)
from cloudlet.store.db import Database

MAX_PROVIDERS = 100
MAX_CLIENT_IDS = 100
MAX_THUMBPRINTS = 5
MAX_TAGS = 50


def provider_arn(account_id: str, path: str) -> str:
    return f"arn:aws:iam::{account_id}:oidc-provider/{path}"


def find_provider(db: Database, account_id: str, url: str) -> dict | None:
    """The provider registered in `account_id` for an issuer URL (with or without scheme)."""
    rows = db.query("SELECT * FROM iam_oidc_providers WHERE account = ? AND path = ?",
                    (account_id, provider_path(url)))
    return _record(rows[0]) if rows else None


def _record(row) -> dict:
    return {
        "arn": provider_arn(row["account"], row["path"]), "path": row["path"],
        "url": row["url"], "account": row["account"],
        "client_ids": json.loads(row["client_ids"]),
        "thumbprints": json.loads(row["thumbprints"]), "tags": json.loads(row["tags"]),
        "created": row["created"],
    }


def _not_found(arn: str) -> NoSuchEntity:
    return NoSuchEntity(f"OpenIDConnect Provider not found for arn {arn}")


class OidcProviderOperations:
    """CreateOpenIDConnectProvider, Get/List/Delete, client ids, thumbprints, tags."""

    def _oidc_path(self, ctx: RequestContext, arn: str) -> str:
        prefix = f"arn:aws:iam::{ctx.account_id}:oidc-provider/"
        if not arn.startswith(prefix) or len(arn) == len(prefix):
            raise _not_found(arn)
        return arn[len(prefix):]

    def _oidc_get(self, ctx: RequestContext, arn: str) -> dict:
        rows = self.store.db.query(
            "SELECT * FROM iam_oidc_providers WHERE account = ? AND path = ?",
            (ctx.account_id, self._oidc_path(ctx, arn)))
        if not rows:
            raise _not_found(arn)
        return _record(rows[0])

    def _oidc_update(self, ctx: RequestContext, arn: str, **columns) -> None:
        path = self._oidc_path(ctx, arn)
        sets = ", ".join(f"{name} = ?" for name in columns)
        with self.store.db.transaction() as conn:
            changed = conn.execute(
                f"UPDATE iam_oidc_providers SET {sets} WHERE account = ? AND path = ?",
                (*(json.dumps(v) for v in columns.values()), ctx.account_id, path)).rowcount
        if not changed:
            raise _not_found(arn)

    def create_open_id_connect_provider(self, ctx: RequestContext, params: dict) -> dict:
        url = params["Url"]
        if not (url.startswith("https://") or (url.startswith("http://") and is_local(url))):
            raise InvalidInput("Invalid URL: the URL must begin with https://")
        path = provider_path(url)
        client_ids = list(dict.fromkeys(params.get("ClientIDList") or []))
        thumbprints = list(dict.fromkeys(t.lower() for t in params.get("ThumbprintList") or []))
        tags = params.get("Tags") or []
        if len(client_ids) > MAX_CLIENT_IDS:
            raise LimitExceeded(f"Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: {MAX_CLIENT_IDS}")
        if len(thumbprints) > MAX_THUMBPRINTS:
            raise LimitExceeded(f"Cannot exceed quota for ThumbprintsPerOpenIdConnectProvider: {MAX_THUMBPRINTS}")
        if len(tags) > MAX_TAGS:
            raise LimitExceeded(f"Cannot exceed quota for TagsPerOpenIdConnectProvider: {MAX_TAGS}")
        with self.store.db.transaction() as conn:
            if conn.execute("SELECT 1 FROM iam_oidc_providers WHERE account = ? AND path = ?",
                            (ctx.account_id, path)).fetchone():
                raise EntityAlreadyExists(f"Provider with url {url} already exists.")
            count = conn.execute("SELECT COUNT(*) FROM iam_oidc_providers WHERE account = ?",
                                 (ctx.account_id,)).fetchone()[0]
            if count >= MAX_PROVIDERS:
                raise LimitExceeded(f"Cannot exceed quota for OpenIdConnectProvidersPerAccount: {MAX_PROVIDERS}")
            conn.execute(
                "INSERT INTO iam_oidc_providers (account, path, url, client_ids, thumbprints,"
                " tags, created) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (ctx.account_id, path, url, json.dumps(client_ids), json.dumps(thumbprints),
                 json.dumps(tags), clock.timestamp()))
        result = {"OpenIDConnectProviderArn": provider_arn(ctx.account_id, path)}
        if tags:
            result["Tags"] = tags
        return result

    def get_open_id_connect_provider(self, ctx: RequestContext, params: dict) -> dict:
        record = self._oidc_get(ctx, params["OpenIDConnectProviderArn"])
        return {
            "Url": record["path"], "ClientIDList": record["client_ids"],
            "ThumbprintList": record["thumbprints"],
            "CreateDate": dt.datetime.fromtimestamp(record["created"], dt.UTC),
            "Tags": record["tags"],
        }

    def list_open_id_connect_providers(self, ctx: RequestContext, params: dict) -> dict:
        rows = self.store.db.query(
            "SELECT path FROM iam_oidc_providers WHERE account = ? ORDER BY path",
            (ctx.account_id,))
        return {"OpenIDConnectProviderList": [
            {"Arn": provider_arn(ctx.account_id, row["path"])} for row in rows]}

    def delete_open_id_connect_provider(self, ctx: RequestContext, params: dict) -> dict:
        arn = params["OpenIDConnectProviderArn"]
        path = self._oidc_path(ctx, arn)
        with self.store.db.transaction() as conn:
            conn.execute("DELETE FROM iam_oidc_providers WHERE account = ? AND path = ?",
                         (ctx.account_id, path))
        return {}  # AWS answers success for a provider that does not exist

    def add_client_id_to_open_id_connect_provider(self, ctx: RequestContext, params: dict) -> dict:
        arn = params["OpenIDConnectProviderArn"]
        client_ids = self._oidc_get(ctx, arn)["client_ids"]
        if params["ClientID"] not in client_ids:
            if len(client_ids) >= MAX_CLIENT_IDS:
                raise LimitExceeded(f"Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: {MAX_CLIENT_IDS}")
            self._oidc_update(ctx, arn, client_ids=[*client_ids, params["ClientID"]])
        return {}

    def remove_client_id_from_open_id_connect_provider(self, ctx: RequestContext, params: dict) -> dict:
        arn = params["OpenIDConnectProviderArn"]
        client_ids = self._oidc_get(ctx, arn)["client_ids"]
        self._oidc_update(ctx, arn, client_ids=[c for c in client_ids if c != params["ClientID"]])
        return {}

    def update_open_id_connect_provider_thumbprint(self, ctx: RequestContext, params: dict) -> dict:
        thumbprints = list(dict.fromkeys(t.lower() for t in params["ThumbprintList"]))
        if len(thumbprints) > MAX_THUMBPRINTS:
            raise LimitExceeded(f"Cannot exceed quota for ThumbprintsPerOpenIdConnectProvider: {MAX_THUMBPRINTS}")
        self._oidc_update(ctx, params["OpenIDConnectProviderArn"], thumbprints=thumbprints)
        return {}

    def tag_open_id_connect_provider(self, ctx: RequestContext, params: dict) -> dict:
        arn = params["OpenIDConnectProviderArn"]
        tags = {t["Key"]: t["Value"] for t in self._oidc_get(ctx, arn)["tags"]}
        tags.update({t["Key"]: t["Value"] for t in params["Tags"]})
        if len(tags) > MAX_TAGS:
            raise LimitExceeded(f"Cannot exceed quota for TagsPerOpenIdConnectProvider: {MAX_TAGS}")
        self._oidc_update(ctx, arn, tags=[{"Key": k, "Value": v} for k, v in tags.items()])
        return {}

    def untag_open_id_connect_provider(self, ctx: RequestContext, params: dict) -> dict:
        arn = params["OpenIDConnectProviderArn"]
        drop = set(params["TagKeys"])
        tags = [t for t in self._oidc_get(ctx, arn)["tags"] if t["Key"] not in drop]
        self._oidc_update(ctx, arn, tags=tags)
        return {}

    def list_open_id_connect_provider_tags(self, ctx: RequestContext, params: dict) -> dict:
        tags = self._oidc_get(ctx, params["OpenIDConnectProviderArn"])["tags"]
        marker = params.get("Marker") or "0"
        if not marker.isdigit():
            raise InvalidInput("Invalid Marker.")
        start = int(marker)
        size = params.get("MaxItems") or 100
        page = tags[start:start + size]
        result = {"Tags": page, "IsTruncated": start + size < len(tags)}
        if result["IsTruncated"]:
            result["Marker"] = str(start + size)
        return result
