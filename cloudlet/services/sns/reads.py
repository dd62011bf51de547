"""What other services may ask of SNS: the one module of SNS that another service imports.

    topics = SnsReads(providers.get("sns"))   # in the asker's attach()
    topics.topic_exists(arn)                  # S3 validates a notification destination

Built on None (no SNS provider), no topic exists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cloudlet.services.sns.provider import SnsProvider


class SnsReads:
    def __init__(self, provider: SnsProvider | None):
        self._provider = provider

    def topic_exists(self, arn: str) -> bool:
        return self._provider is not None and self._provider.topic_exists(arn)
