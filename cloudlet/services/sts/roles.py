"""AssumeRole and AssumeRoleWithWebIdentity: a role's trust policy decides, a session is
minted with the role's identity and the request's session policies and tags."""

from __future__ import annotations

import math
import re

from cloudlet import clock
from cloudlet.oidc_urls import is_local
from cloudlet.policy.trust import federated, principal_of, service, trust_allows
from cloudlet.principals import Credential
from cloudlet.services.base import RequestContext
from cloudlet.services.iam.reads import IamReads
from cloudlet.services.sts import errors, oidc, requests
from cloudlet.services.sts.sessions import SessionStore

_ROLE_ARN = re.compile(r"arn:aws:iam::(\d{12}):role/(?:[\x21-\x7e]*/)?([\w+=,.@-]{1,64})\Z")
ROLE_CHAINING_LIMIT = 3600
_CHAINING = ("The requested DurationSeconds exceeds the 1 hour session limit for roles "
             "assumed by role chaining.")
_OVER_MAX = "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."


def parse_role_arn(arn: str) -> tuple[str, str] | None:
    match = _ROLE_ARN.match(arn)
    return (match.group(1), match.group(2)) if match else None


def assumed_role_arn(account_id: str, role_name: str, session_name: str) -> str:
    return f"arn:aws:sts::{account_id}:assumed-role/{role_name}/{session_name}"


def _credentials_shape(credential: Credential) -> dict:
    return {"AccessKeyId": credential.access_key_id,
            "SecretAccessKey": credential.secret_access_key,
            "SessionToken": credential.session_token, "Expiration": credential.expiration}


def _check_source_identity(value: str | None, inherited: str | None) -> str | None:
    if value is not None and value.lower().startswith("aws:"):
        raise errors.validation("SourceIdentity cannot start with the prefix 'aws:'.")
    if inherited and value is not None and value != inherited:
        raise errors.access_denied(
            "The source identity of the session cannot be changed by role chaining.")
    return inherited or value


class RoleOperations:
    sessions: SessionStore
    iam: IamReads

    def assume_role(self, ctx: RequestContext, params: dict) -> dict:
        caller = ctx.caller
        requests.check_patterns(params)
        requests.refuse_mfa(params)
        role_arn, session_name = params["RoleArn"], params["RoleSessionName"]
        denied = errors.not_authorized(caller.arn, "sts:AssumeRole", role_arn)
        parsed = parse_role_arn(role_arn)
        role = self.iam.role(*parsed) if parsed else None
        if role is None:
            raise denied
        chained = caller.kind == "assumed-role"
        source_identity = _check_source_identity(
            params.get("SourceIdentity"), caller.session.get("source_identity"))
        inherited = {k: v for k, v in caller.session.get("session_tags", {}).items()
                     if k in caller.session.get("transitive_tag_keys", [])} if chained else {}
        tags, transitive = requests.session_tags(params, inherited)

        principal_tags = self._principal_tags(caller)
        context = requests.global_context(ctx, caller, principal_tags)
        context["sts:RoleSessionName"] = session_name
        if params.get("ExternalId") is not None:
            context["sts:ExternalId"] = params["ExternalId"]
        if params.get("SourceIdentity") is not None:
            context["sts:SourceIdentity"] = params["SourceIdentity"]
        if tags:
            context["aws:TagKeys"] = list(tags)
            context.update({f"aws:RequestTag/{k}": v for k, v in tags.items()})
        if transitive:
            context["sts:TransitiveTagKeys"] = transitive
        principal = principal_of(caller, principal_tags)
        actions = ["sts:AssumeRole"]
        if tags:
            actions.append("sts:TagSession")
        if params.get("SourceIdentity") is not None:
            actions.append("sts:SetSourceIdentity")
        for action in actions:
            if not trust_allows(role["trust_policy"], action, role["arn"], principal, context):
                raise errors.not_authorized(caller.arn, action, role_arn)

        maximum = ROLE_CHAINING_LIMIT if chained else role["max_session_duration"]
        seconds = requests.duration(params, default=3600, maximum=maximum,
                                    message=_CHAINING if chained else _OVER_MAX)
        policies = requests.session_policies(self.iam, role["arn"].split(":")[4], params)
        all_tags = {**inherited, **tags}
        packed = requests.packed_size(policies, all_tags)
        credential = self._role_session(role, session_name, seconds, policies, all_tags,
                                        [*inherited, *transitive], source_identity,
                                        extra={"assumed_by": caller.arn})
        return self._role_result(credential, packed)

    def _role_session(self, role: dict, session_name: str, seconds: int, policies: list,
                      session_tags: dict, transitive: list, source_identity: str | None,
                      extra: dict) -> Credential:
        account_id = role["arn"].split(":")[4]
        # Principal tags of a role session: the role's tags, overridden by session tags.
        principal_tags = {**role["tags"], **session_tags}
        return self.sessions.create(
            account_id=account_id, kind="assumed-role",
            arn=assumed_role_arn(account_id, role["name"], session_name),
            user_id=f"{role['role_id']}:{session_name}", name=role["name"], duration=seconds,
            session={
                "role_arn": role["arn"], "role_id": role["role_id"], "role_name": role["name"],
                "session_name": session_name, "session_policies": policies,
                "tags": principal_tags, "session_tags": session_tags,
                "transitive_tag_keys": transitive, "source_identity": source_identity,
                "issued": clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"), **extra,
            },
        )

    @staticmethod
    def _role_result(credential: Credential, packed: int | None) -> dict:
        result = {"Credentials": _credentials_shape(credential),
                  "AssumedRoleUser": {"AssumedRoleId": credential.user_id,
                                      "Arn": credential.arn}}
        if packed is not None:
            result["PackedPolicySize"] = packed
        if credential.session.get("source_identity"):
            result["SourceIdentity"] = credential.session["source_identity"]
        return result

    def service_session(self, role_arn: str, service_principal: str, session_name: str,
                        seconds: int = 3600) -> Credential:
        """Credentials for a role that an AWS service assumes on a user's behalf (a Lambda
        function's execution role, an instance profile's role): the trust policy must admit
        the service principal (`lambda.amazonaws.com`). Raises AccessDenied otherwise."""
        parsed = parse_role_arn(role_arn)
        role = self.iam.role(*parsed) if parsed else None
        denied = errors.access_denied(
            f"{service_principal} is not authorized to perform: sts:AssumeRole on resource: "
            f"{role_arn}")
        if role is None:
            raise denied
        principal = service(service_principal)
        context = {"sts:RoleSessionName": session_name}
        if not trust_allows(role["trust_policy"], "sts:AssumeRole", role["arn"], principal,
                            context):
            raise denied
        seconds = min(seconds, role["max_session_duration"])
        return self._role_session(role, session_name, seconds, [], {}, [], None,
                                  extra={"assumed_by": service_principal})

    def _principal_tags(self, caller: Credential) -> dict[str, str]:
        if caller.kind == "user" and caller.name:
            return self.iam.user_tags(caller.account_id, caller.name)
        return dict(caller.session.get("tags") or {})

    # -- web identity ---------------------------------------------------------------------

    def assume_role_with_web_identity(self, ctx: RequestContext, params: dict) -> dict:
        requests.check_patterns(params)
        role_arn, session_name = params["RoleArn"], params["RoleSessionName"]
        try:
            token = oidc.parse(params["WebIdentityToken"])
        except oidc.TokenError:
            raise errors.invalid_identity_token(errors.TOKEN_NOT_VALID) from None
        parsed = parse_role_arn(role_arn)
        if parsed is None:
            raise errors.access_denied(errors.WEB_IDENTITY_DENIED)
        account_id = parsed[0]
        issuer_url = str(token.claims.get("iss") or "")
        provider = self.iam.oidc_provider(account_id, issuer_url) if issuer_url else None
        if provider is None:
            raise errors.invalid_identity_token(
                f"No OpenIDConnect provider found in your account for {issuer_url}")
        if not is_local(issuer_url):
            raise errors.invalid_identity_token(errors.KEY_NOT_RETRIEVED)
        try:
            self.issuer.verify(token)
        except oidc.TokenError:
            raise errors.invalid_identity_token(errors.TOKEN_NOT_VALID) from None
        claims = token.claims
        now = int(clock.timestamp())
        expires = claims.get("exp")
        if not isinstance(expires, int | float) or not math.isfinite(expires):
            raise errors.invalid_identity_token(errors.TOKEN_NOT_VALID)
        if now >= expires:
            raise errors.expired_web_token(
                f"Token expired: current date/time {now} must be before the expiration "
                f"date/time{int(expires)}")
        not_before = claims.get("nbf")
        if isinstance(not_before, int | float) and not (not_before <= now + 300):
            raise errors.invalid_identity_token(errors.TOKEN_NOT_VALID)
        audiences = claims.get("aud")
        audiences = [audiences] if isinstance(audiences, str) else audiences
        if not isinstance(audiences, list) or not all(isinstance(a, str) for a in audiences):
            raise errors.invalid_identity_token("Incorrect token audience")
        audience = claims.get("azp") if isinstance(claims.get("azp"), str) else None
        matched = [a for a in ([audience] if audience else audiences)
                   if a in provider["client_ids"]]
        if not matched:
            raise errors.invalid_identity_token("Incorrect token audience")
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise errors.invalid_identity_token(errors.TOKEN_NOT_VALID)

        role = self.iam.role(*parsed)
        if role is None:
            raise errors.access_denied(errors.WEB_IDENTITY_DENIED)
        context = requests.global_context(ctx, None, {})
        prefix = provider["path"]
        context.update({f"{prefix}:sub": subject, f"{prefix}:aud": matched[0],
                        f"{prefix}:oaud": audiences, "aws:FederatedProvider": provider["arn"],
                        "sts:RoleSessionName": session_name})
        if "amr" in claims:
            amr = claims["amr"]
            context[f"{prefix}:amr"] = amr if isinstance(amr, list) else [amr]
        principal = federated(provider["arn"], account_id)
        if not trust_allows(role["trust_policy"], "sts:AssumeRoleWithWebIdentity",
                            role["arn"], principal, context):
            raise errors.access_denied(errors.WEB_IDENTITY_DENIED)

        seconds = requests.duration(params, default=3600, maximum=role["max_session_duration"],
                                    message=_OVER_MAX)
        policies = requests.session_policies(self.iam, account_id, params)
        packed = requests.packed_size(policies, {})
        credential = self._role_session(
            role, session_name, seconds, policies, {}, [], None,
            extra={"federated_provider": provider["arn"],
                   "web_identity": {"iss": issuer_url, "sub": subject, "aud": matched[0]}})
        result = self._role_result(credential, packed)
        result.update({"SubjectFromWebIdentityToken": subject, "Provider": issuer_url,
                       "Audience": matched[0]})
        return result

