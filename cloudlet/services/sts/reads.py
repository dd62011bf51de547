"""What other services may ask of STS: the one module of STS that another service imports.

    sts = StsReads(providers.get("sts"))       # in the asker's attach()
    sts.service_session(role_arn, "lambda.amazonaws.com", session_name, seconds)
        # -> Credential: the role's temporary credentials, assumed by an AWS service on a
        #    user's behalf (a Lambda function's execution role, later an instance
        #    profile's); raises AccessDenied unless the role trusts the service

Not a read of stored state, but the only door into STS: a session is minted and stored as
AssumeRole's are. Built on None (no STS provider), it refuses every session.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cloudlet.principals import Credential
from cloudlet.services.sts import errors

if TYPE_CHECKING:
    from cloudlet.services.sts.provider import StsProvider


class StsReads:
    def __init__(self, provider: StsProvider | None):
        self._provider = provider

    def service_session(self, role_arn: str, service_principal: str, session_name: str,
                        seconds: int = 3600) -> Credential:
        if self._provider is None:
            raise errors.access_denied(
                f"{service_principal} is not authorized to perform: sts:AssumeRole on "
                f"resource: {role_arn}")
        return self._provider.service_session(role_arn, service_principal, session_name,
                                              seconds)
