"""Logs Insights errors, each defined once, in AWS's words."""

from __future__ import annotations

from cloudlet.errors import ServiceError


class InsightsError(ServiceError):
    status = 400


class MalformedQuery(InsightsError):
    """A query that does not compile; `queryCompileError` locates the fault in the query."""

    code = "MalformedQueryException"

    def __init__(self, message: str, start: int, end: int):
        self.start, self.end = start, end
        super().__init__(message, fields={"queryCompileError": {
            "location": {"startCharOffset": start, "endCharOffset": end},
            "message": message,
        }})


def invalid_parameter(message: str) -> InsightsError:
    return InsightsError(message, code="InvalidParameterException")


def resource_not_found(message: str) -> InsightsError:
    return InsightsError(message, code="ResourceNotFoundException")


def limit_exceeded(message: str) -> InsightsError:
    return InsightsError(message, code="LimitExceededException")
