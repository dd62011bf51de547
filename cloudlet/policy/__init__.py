"""The IAM policy language and its evaluation: pure, no I/O.

- `document`: parse policy JSON (`parse`) and validate it per policy kind
  (`validate_identity_policy`, `validate_managed_policy`, `validate_resource_policy`,
  `validate_trust_policy`, `validate_session_policy`, `check_inline_size`).
- `evaluate`: AWS's evaluation logic (`evaluate`, `context_keys`) over `Policy`,
  `Principal` and `AuthzRequest`, answering a `Decision`.
- `trust`: a role's trust policy, judged for a caller, a service or a web identity
  (`trust_allows`).
- `conditions`, `matching`, `variables`, `compiled`: the parts evaluation is made of.
"""

from cloudlet.policy.document import (
    PolicyDocument,
    Statement,
    check_inline_size,
    parse,
    validate_identity_policy,
    validate_managed_policy,
    validate_resource_policy,
    validate_session_policy,
    validate_trust_policy,
)
from cloudlet.policy.evaluate import (
    AuthzRequest,
    Decision,
    MatchedStatement,
    Policy,
    Principal,
    context_keys,
    evaluate,
    normalize_context,
)

__all__ = [
    "AuthzRequest", "Decision", "MatchedStatement", "Policy", "PolicyDocument", "Principal",
    "Statement", "check_inline_size", "context_keys", "evaluate", "normalize_context", "parse",
    "validate_identity_policy", "validate_managed_policy", "validate_resource_policy",
    "validate_session_policy", "validate_trust_policy",
]
