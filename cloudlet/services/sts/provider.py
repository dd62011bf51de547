"""STS: who am I, and (with the IAM issue) temporary credentials."""

from __future__ import annotations

from cloudlet.services.base import Provider, RequestContext


class StsProvider(Provider):
    service = "sts"

    async def get_caller_identity(self, ctx: RequestContext, params: dict) -> dict:
        caller = ctx.caller
        return {
            "UserId": caller.user_id or caller.account_id,
            "Account": caller.account_id,
            "Arn": caller.arn,
        }
