"""What other services may ask of Lambda: the one module of Lambda that another service
imports.

    functions = LambdaReads(providers.get("lambda"))   # in the asker's attach()
    functions.function_exists(account, region, arn)    # S3 validates a notification
                                                        # destination

Built on None (no Lambda provider), no function exists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cloudlet.services.lambda_.provider import LambdaProvider


class LambdaReads:
    def __init__(self, provider: LambdaProvider | None):
        self._provider = provider

    def function_exists(self, account: str, region: str, arn: str) -> bool:
        """A function, version or alias named by `arn` (or by a bare name, read in
        `account` and `region`)."""
        if self._provider is None:
            return False
        return self._provider.destination_exists(account, region, arn)
