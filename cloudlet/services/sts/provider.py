"""STS: who am I, and temporary credentials. One class composed of one family.

    provider.py   GetCallerIdentity, GetSessionToken, GetFederationToken, GetAccessKeyInfo,
                  DecodeAuthorizationMessage; the credential resolver for ASIA keys; the
                  local OIDC issuer's route (/_cloudlet/oidc/, served by oidc.py)
    roles.py      RoleOperations: AssumeRole, AssumeRoleWithWebIdentity; service_session()
                  for services

What the operations share:

    requests.py   what every credentials request checks: duration, session policies and
                  tags, patterns, the request context
    sessions.py   minting and storing temporary credentials
    oidc.py       JWTs and Cloudlet's local OIDC issuer (its keys, discovery, tokens)
    authorization_message.py   the encoded message of EC2 denials, and its decoding
    errors.py     STS's errors
    reads.py      what other services may ask of STS: service_session()

STS reads IAM (roles, users' tags, managed policy documents, OIDC providers) only through
`cloudlet.services.iam.reads`; trust policies are judged by `cloudlet.policy.trust`, key ids
come from `cloudlet.key_ids`. Other services ask STS through `reads.py`.
"""

from __future__ import annotations

import json
import re

from cloudlet import clock
from cloudlet.config import DEFAULT_ACCOUNT
from cloudlet.key_ids import account_of_key
from cloudlet.principals import Credential
from cloudlet.services.base import Provider, RequestContext, Route, RouteAuth
from cloudlet.services.iam.reads import IamReads
from cloudlet.services.sts import authorization_message, errors, oidc, requests
from cloudlet.services.sts.oidc import LocalIssuer
from cloudlet.services.sts.roles import RoleOperations
from cloudlet.services.sts.sessions import SessionStore
from cloudlet.store import Store

_ACCOUNT_ID = re.compile(r"\d{12}\Z")
ROOT_SESSION_LIMIT = 3600
USER_SESSION_LIMIT = 129600
FEDERATION_DEFAULT = 43200


class StsProvider(RoleOperations, Provider):
    service = "sts"

    def __init__(self, store: Store, bus=None):
        super().__init__(store, bus)
        self.sessions = SessionStore(store.db, store.sealer)
        self.issuer = LocalIssuer(store.root / "oidc")
        self.iam = IamReads(None)

    def attach(self, providers: dict[str, Provider]) -> None:
        self.iam = IamReads(providers.get("iam"))

    def start(self) -> None:
        self.sessions.sweep()

    def routes(self) -> list[Route]:
        """The local OIDC issuer: its discovery document and keys, public; tokens for
        `cloudlet oidc token`, a control call (an account's root)."""
        return [Route(prefix=oidc.TOKEN_PATH, methods=frozenset({"POST"}), reads_body=True,
                      auth=RouteAuth.ROOT, handler=self.serve_token),
                Route(prefix=oidc.LOCAL_PATH + "/", methods=frozenset({"GET", "HEAD"}),
                      handler=self.serve_issuer)]

    def serve_issuer(self, request) -> tuple[int, dict[str, str], bytes]:
        return oidc.serve_public(self.issuer, request)

    def serve_token(self, request, verify) -> tuple[int, dict[str, str], bytes]:
        return oidc.serve_token(self.issuer, request)

    def credential_for(self, access_key_id: str) -> Credential | None:
        """The credential resolver for STS's temporary keys (registered with auth)."""
        return self.sessions.lookup(access_key_id)

    async def get_caller_identity(self, ctx: RequestContext, params: dict) -> dict:
        caller = ctx.caller
        return {
            "UserId": caller.user_id or caller.account_id,
            "Account": caller.account_id,
            "Arn": caller.arn,
        }

    def get_session_token(self, ctx: RequestContext, params: dict) -> dict:
        caller = ctx.caller
        if caller.session_token is not None:
            raise errors.access_denied("Cannot call GetSessionToken with session credentials")
        requests.refuse_mfa(params)
        if caller.kind == "root":
            seconds = requests.duration(params, default=ROOT_SESSION_LIMIT,
                                        maximum=ROOT_SESSION_LIMIT, message=_too_long("root"))
        else:
            seconds = requests.duration(params, default=43200, maximum=USER_SESSION_LIMIT,
                                        message=_too_long("user"))
        credential = self.sessions.create(
            account_id=caller.account_id, kind=caller.kind, arn=caller.arn,
            user_id=caller.user_id or caller.account_id, name=caller.name, duration=seconds,
            session={"via": "GetSessionToken", "parent_access_key": caller.access_key_id,
                     "issued": _iso_now()})
        return {"Credentials": _credentials(credential)}

    def get_federation_token(self, ctx: RequestContext, params: dict) -> dict:
        caller = ctx.caller
        if caller.session_token is not None:
            raise errors.access_denied(
                "Cannot call GetFederationToken with session credentials")
        if caller.kind not in ("user", "root"):
            raise errors.access_denied("Only IAM users and the root user can call "
                                       "GetFederationToken")
        requests.check_patterns(params)
        maximum = ROOT_SESSION_LIMIT if caller.kind == "root" else USER_SESSION_LIMIT
        seconds = requests.duration(params, default=min(FEDERATION_DEFAULT, maximum),
                                    maximum=maximum, message=_too_long(caller.kind))
        policies = requests.session_policies(self.iam, caller.account_id, params)
        tags, _ = requests.session_tags(params, {})
        packed = requests.packed_size(policies, tags)
        name = params["Name"]
        arn = f"arn:aws:sts::{caller.account_id}:federated-user/{name}"
        user_id = f"{caller.account_id}:{name}"
        credential = self.sessions.create(
            account_id=caller.account_id, kind="federated-user", arn=arn, user_id=user_id,
            name=name, duration=seconds,
            session={"parent_arn": caller.arn, "parent_kind": caller.kind,
                     "parent_name": caller.name, "session_policies": policies,
                     "tags": tags, "session_tags": tags, "issued": _iso_now()})
        result = {"Credentials": _credentials(credential),
                  "FederatedUser": {"FederatedUserId": user_id, "Arn": arn}}
        if packed is not None:
            result["PackedPolicySize"] = packed
        return result

    def get_access_key_info(self, ctx: RequestContext, params: dict) -> dict:
        key = params["AccessKeyId"]
        credential = self.sessions.lookup(key)
        if credential is None:
            credential = self.iam.credential_for(key)
        if credential is not None:
            return {"Account": credential.account_id}
        if key == "test":
            return {"Account": DEFAULT_ACCOUNT}
        if _ACCOUNT_ID.match(key):
            return {"Account": key}
        account = account_of_key(key)
        if account is None:
            raise errors.validation(f"Access key {key} is not a valid AWS access key ID.")
        return {"Account": account}

    async def decode_authorization_message(self, ctx: RequestContext, params: dict) -> dict:
        try:
            document = authorization_message.decode(params["EncodedMessage"])
        except ValueError:
            raise errors.invalid_authorization_message(
                "The encoded authorization message is invalid.") from None
        return {"DecodedMessage": json.dumps(document, separators=(",", ":"))}


def _credentials(credential: Credential) -> dict:
    return {"AccessKeyId": credential.access_key_id,
            "SecretAccessKey": credential.secret_access_key,
            "SessionToken": credential.session_token, "Expiration": credential.expiration}


def _too_long(kind: str) -> str:
    if kind == "root":
        return ("The requested DurationSeconds exceeds the 1 hour session limit for the "
                "root user.")
    return f"The requested DurationSeconds exceeds the maximum of {USER_SESSION_LIMIT} seconds."


def _iso_now() -> str:
    return clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
