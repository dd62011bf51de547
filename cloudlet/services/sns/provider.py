"""SNS: topics, subscriptions and delivery."""

from __future__ import annotations

from cloudlet.services.base import Provider


class SnsProvider(Provider):
    service = "sns"
