"""What the Invoke side asks of a function: the FunctionSpec to run (with the execution
role's credentials), the record around it (reserved concurrency, async settings, policy).

`function_spec()` resolves $LATEST, a version, or an alias (whose RoutingConfig picks a
version per call); its key changes whenever the code or the configuration does, so warm
environments never run stale code. `note_endpoint(ctx)` (called on every API request)
keeps the endpoint functions reach Cloudlet at (AWS_ENDPOINT_URL): the request's host, or
CLOUDLET_ENDPOINT when set.
"""

from __future__ import annotations

import threading

from cloudlet import clock
from cloudlet.engines.lambda_.engine import FunctionSpec
from cloudlet.services.lambda_.records import config_digest, function_arn, public


class SpecOperations:
    def function_spec(self, account: str, region: str, name_or_arn: str,
                      qualifier: str | None = None) -> FunctionSpec:
        """The version to run (an alias with RoutingConfig picks one by weight); raises
        ResourceNotFoundException as Invoke answers it."""
        account, name, qualifier = self.locate(account, region, name_or_arn, qualifier)
        if qualifier and not qualifier.isdigit() and qualifier != "$LATEST":
            alias = self.lambdas.get("lambda_aliases", account, region, name, qualifier)
            if alias is not None:
                qualifier = self.route(alias)
        doc = self.version_doc(account, region, name, qualifier)
        arn = function_arn(account, region, name)
        version = doc["Version"]
        return FunctionSpec(
            key=f"{arn}:{version}:{doc['_code']['hex']}:{config_digest(doc)}",
            function_name=name, function_arn=f"{arn}:{version}", version=version,
            account=account, region=region, runtime=doc["Runtime"], handler=doc["Handler"],
            code_dir=self.codes.code_dir(doc["_code"]["hex"]),
            layer_dirs=tuple(self.codes.code_dir(h) for h in doc.get("_layers", [])),
            memory_mb=doc["MemorySize"], timeout_s=float(doc["Timeout"]),
            ephemeral_mb=doc["EphemeralStorage"]["Size"],
            environment=dict((doc.get("Environment") or {}).get("Variables") or {}),
            log_group=doc.get("LoggingConfig", {}).get("LogGroup") or f"/aws/lambda/{name}",
            endpoint_url=self.endpoint or "http://127.0.0.1:4566",
            credentials=self.role_credentials(doc["Role"], name),
        )

    def function_record(self, account: str, region: str, name_or_arn: str,
                        qualifier: str | None = None) -> dict:
        """The configuration (AWS's shape) with what invoking needs beside it:
        ReservedConcurrentExecutions, EventInvokeConfig, Policy, Tags."""
        account, name, qualifier = self.locate(account, region, name_or_arn, qualifier)
        doc = self.version_doc(account, region, name, qualifier)
        function = self.function_doc(account, region, name)
        record = public(doc)
        record["ReservedConcurrentExecutions"] = function.get("Concurrency")
        record["Tags"] = dict(function.get("Tags", {}))
        record["Policy"] = self.function_policy(account, region, name, qualifier)
        record["EventInvokeConfig"] = self.event_invoke_config(account, region, name,
                                                               qualifier or "$LATEST")
        return record

    def role_credentials(self, role_arn: str, name: str):
        """A callable giving the execution role's temporary credentials, renewed five
        minutes before they expire (STS's service_session, as lambda.amazonaws.com)."""
        key = (role_arn, name)
        with self._credentials_lock:
            found = self._credentials.get(key)
            if found is None:
                found = self._credentials[key] = _RoleCredentials(self, role_arn, name)
        return found


class _RoleCredentials:
    def __init__(self, provider: SpecOperations, role_arn: str, name: str):
        self.provider, self.role_arn, self.name = provider, role_arn, name
        self.lock = threading.Lock()
        self.current: dict | None = None

    def __call__(self) -> dict:
        with self.lock:
            if self.current is None or self.current["Expiration"] - clock.timestamp() < 300:
                credential = self.provider.sts.service_session(
                    self.role_arn, "lambda.amazonaws.com", self.name)
                self.current = {"AccessKeyId": credential.access_key_id,
                                "SecretAccessKey": credential.secret_access_key,
                                "SessionToken": credential.session_token,
                                "Expiration": credential.expiration.timestamp()}
            return dict(self.current)
