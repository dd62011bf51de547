"""RDS: real database servers behind AWS's API."""

from __future__ import annotations

from cloudlet.services.base import Provider


class RdsProvider(Provider):
    service = "rds"
