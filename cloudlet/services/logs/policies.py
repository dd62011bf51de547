"""Resource policies: who else (Route 53, EventBridge, another account) may write to the
account's log groups. Account-scoped policies go by name, at most 10 per Region; a
resource-scoped policy belongs to one log group (`resourceArn`).

Stored as records (`records`, service "logs", kind "resource-policy"); Cloudlet keeps them
for the tools that read them back and does not evaluate them."""

from __future__ import annotations

import json
import uuid

from cloudlet.services.logs.errors import InvalidParameter, LimitExceeded, ResourceNotFound
from cloudlet.services.logs.groups import now_ms

KIND = "resource-policy"
MAX_ACCOUNT_POLICIES = 10
MAX_DOCUMENT = 5120


class ResourcePolicyOperations:
    def _policies(self, ctx) -> list[dict]:
        rows = self.store.db.query(
            "SELECT value FROM records WHERE service = 'logs' AND account = ? AND region = ? "
            "AND kind = ? ORDER BY key", (ctx.account_id, ctx.region, KIND))
        return [json.loads(r["value"]) for r in rows]

    @staticmethod
    def _key(policy: dict) -> str:
        return policy.get("resourceArn") or f"name:{policy['policyName']}"

    def put_resource_policy(self, ctx, params):
        document = params.get("policyDocument")
        arn = params.get("resourceArn")
        name = params.get("policyName")
        if document is None:
            raise InvalidParameter("policyDocument is required.")
        if arn is None and not name:
            raise InvalidParameter("policyName is required for an account-scoped policy.")
        try:
            parsed = json.loads(document)
        except (ValueError, RecursionError):
            raise InvalidParameter("Policy document is not valid JSON.") from None
        if not isinstance(parsed, dict) or len(document) > MAX_DOCUMENT:
            raise InvalidParameter("Invalid policy document.")
        if arn is not None:
            self._group_by_arn(ctx, arn)
        policies = {self._key(p): p for p in self._policies(ctx)}
        policy = {"policyDocument": document,
                  "lastUpdatedTime": now_ms(), "policyScope": "RESOURCE" if arn else "ACCOUNT",
                  "revisionId": uuid.uuid4().hex}
        if name:
            policy["policyName"] = name
        if arn is not None:
            policy["resourceArn"] = arn
        key = self._key(policy)
        previous = policies.get(key)
        expected = params.get("expectedRevisionId")
        if expected is not None and (previous is None or previous["revisionId"] != expected):
            raise InvalidParameter("The expected revision id does not match the policy's.")
        accounts = [p for k, p in policies.items()
                    if p["policyScope"] == "ACCOUNT" and k != key]
        if arn is None and len(accounts) >= MAX_ACCOUNT_POLICIES:
            raise LimitExceeded("Resource limit exceeded.")
        with self.store.db.transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO records (service, account, region, kind, key, "
                         "value) VALUES ('logs', ?, ?, ?, ?, ?)",
                         (ctx.account_id, ctx.region, KIND, key, json.dumps(policy)))
        return {"resourcePolicy": policy, "revisionId": policy["revisionId"]}

    def describe_resource_policies(self, ctx, params):
        policies = self._policies(ctx)
        if params.get("resourceArn"):
            policies = [p for p in policies if p.get("resourceArn") == params["resourceArn"]]
        if params.get("policyScope"):
            policies = [p for p in policies if p["policyScope"] == params["policyScope"]]
        return {"resourcePolicies": policies}

    def delete_resource_policy(self, ctx, params):
        arn = params.get("resourceArn")
        name = params.get("policyName")
        if arn is None and not name:
            raise InvalidParameter("policyName or resourceArn is required.")
        key = arn or f"name:{name}"
        with self.store.db.transaction() as conn:
            row = conn.execute("SELECT value FROM records WHERE service = 'logs' AND account = ? "
                               "AND region = ? AND kind = ? AND key = ?",
                               (ctx.account_id, ctx.region, KIND, key)).fetchone()
            if row is None:
                raise ResourceNotFound(f"Policy with name [{name or arn}] does not exist")
            expected = params.get("expectedRevisionId")
            if expected is not None and json.loads(row["value"])["revisionId"] != expected:
                raise InvalidParameter("The expected revision id does not match the policy's.")
            conn.execute("DELETE FROM records WHERE service = 'logs' AND account = ? "
                         "AND region = ? AND kind = ? AND key = ?",
                         (ctx.account_id, ctx.region, KIND, key))
        return {}
