"""DryRun: "would this request have been allowed?", answered once for every operation.

The gateway's `dry_run` step runs after `authorize`, so a request that reaches it has been
allowed (a denied one got UnauthorizedOperation, 403, from the authorizer). With DryRun set
it stops here with DryRunOperation (412), before the operation runs."""

from __future__ import annotations

from cloudlet.services.ec2.errors import DryRunOperation


class DryRun:
    def dry_run(self, ctx, params: dict) -> None:
        if params.get("DryRun") is True:
            raise DryRunOperation()
