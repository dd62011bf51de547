"""Lambda functions, versions, aliases, layers and their settings.

    functions.py      CreateFunction, GetFunction(Configuration), Update*, DeleteFunction,
                      ListFunctions; names and ARNs; what create and update share
    specs.py          what the Invoke side asks: function_spec(), function_record()
    versions.py       PublishVersion, ListVersionsByFunction, aliases (weighted routing)
    policies.py       AddPermission, RemovePermission, GetPolicy (resource policies)
    layers.py         PublishLayerVersion & co, layer version permissions
    urls.py           function URLs' configuration (serving them is invoke's)
    mappings.py       event source mappings (stored: there is no SQS to poll yet)
    destinations.py   PutFunctionEventInvokeConfig & co (async retries and destinations)
    concurrency.py    PutFunctionConcurrency & co, GetAccountSettings
    tags.py           TagResource, UntagResource, ListTags
    code_urls.py      GetFunction's Code.Location, signed, served under /_cloudlet/lambda/code/
    runtimes.py       the host interpreter's version against the runtime's name
    runtime_settings.py  code signing (none), runtime management, recursion, provisioned
                      concurrency (none): what tools such as Terraform read on every function
    configuration.py  runtimes, limits, environment: what create and update check
    code.py           deployment packages: hostile-archive checks, safe unpacking
    store.py          the lambda_ tables
    records.py        ARNs, timestamps, a configuration as AWS answers it, pages

A configuration is stored in AWS's shape with internal keys starting with "_" (the code's
digest, layer digests, when a state transition ends). State and LastUpdateStatus are real
transitions: a new function is Pending, an update InProgress, for TRANSITION seconds; an
update or publish meanwhile is refused with ResourceConflictException, as AWS does, and
waiters (function_active_v2, function_updated_v2) see the change.

Lambda reads other services only through the interfaces they declare, taken at attach():
IAM's `reads.py` (execution roles, callers' policies), STS's (the execution role's
sessions) and S3's (deployment packages, notification buckets' owners).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import threading
import uuid

from cloudlet import clock
from cloudlet.policy.trust import service, trust_allows
from cloudlet.services.base import RequestContext
from cloudlet.services.iam.reads import IamReads
from cloudlet.services.lambda_ import configuration as conf
from cloudlet.services.lambda_ import errors
from cloudlet.services.lambda_.code import UNZIPPED_LIMIT, CodeStore, check_zipped_size
from cloudlet.services.lambda_.code_urls import CodeUrlOperations
from cloudlet.services.lambda_.concurrency import ConcurrencyOperations
from cloudlet.services.lambda_.destinations import DestinationOperations
from cloudlet.services.lambda_.layers import LayerOperations
from cloudlet.services.lambda_.mappings import MappingOperations
from cloudlet.services.lambda_.policies import PolicyOperations
from cloudlet.services.lambda_.records import (
    TRANSITION,
    config_digest,
    function_arn,
    paginate,
    public,
    timestamp,
)
from cloudlet.services.lambda_.runtime_settings import RuntimeSettingsOperations
from cloudlet.services.lambda_.specs import SpecOperations
from cloudlet.services.lambda_.store import LambdaStore
from cloudlet.services.lambda_.tags import TagOperations
from cloudlet.services.lambda_.urls import UrlOperations
from cloudlet.services.lambda_.versions import VersionOperations
from cloudlet.services.s3.reads import S3Error, S3Reads
from cloudlet.services.sts.reads import StsReads

_FUNCTION_ARN = re.compile(
    r"(?:arn:aws[a-zA-Z-]*:lambda:(?P<region>[a-z0-9-]+):)?(?:(?P<account>\d{12}):)?"
    r"(?:function:)?(?P<name>[a-zA-Z0-9_-]+)(?::(?P<qualifier>\$LATEST|[a-zA-Z0-9_-]+))?\Z")


class FunctionOperations(SpecOperations, VersionOperations, PolicyOperations, LayerOperations,
                         UrlOperations, MappingOperations, DestinationOperations,
                         ConcurrencyOperations, TagOperations, CodeUrlOperations,
                         RuntimeSettingsOperations):
    def __init__(self, store, bus=None):
        super().__init__(store, bus)
        self.lambdas = LambdaStore(store.db, store.sealer)
        self.codes = CodeStore(store.root / "lambda")
        # what Lambda reads of other services, through the interfaces they declare
        self.iam, self.sts, self.s3 = IamReads(None), StsReads(None), S3Reads(None)
        self._endpoint_file = store.root / "lambda" / "endpoint"
        self.endpoint = os.environ.get("CLOUDLET_ENDPOINT", "") or self._last_endpoint()
        self._url_key = self._load_url_key()
        self._credentials: dict[tuple[str, str], object] = {}
        self._credentials_lock = threading.Lock()
        # held by every read-check-write of a function (updates, publishing, concurrency,
        # tags), from unpacking a package until the version using it is stored, and while
        # packages no version uses are removed
        self.write_lock = threading.RLock()

    def attach(self, providers: dict) -> None:
        super().attach(providers)
        self.iam = IamReads(providers.get("iam"))
        self.sts = StsReads(providers.get("sts"))
        s3 = providers.get("s3")
        self.s3 = s3.reads if s3 is not None else S3Reads(None)

    def start(self) -> None:
        super().start()
        with self.write_lock:  # packages a crash left behind unreferenced
            for hex_digest in self.codes.stored() - self.lambdas.packages():
                self.codes.remove(hex_digest)

    def stop(self) -> None:
        super().stop()

    # -- names and records ----------------------------------------------------------------
    def note_endpoint(self, ctx: RequestContext | None) -> None:
        """Cloudlet's endpoint as clients reach it (the function's AWS_ENDPOINT_URL)."""
        host = ctx.extra.get("host") if ctx is not None else None
        if host and ".lambda-url." not in host and not os.environ.get("CLOUDLET_ENDPOINT"):
            endpoint = f"{'https' if ctx.secure_transport else 'http'}://{host}"
            if endpoint != self.endpoint:
                self.endpoint = endpoint
                try:  # remembered, for invocations after a restart before any API request
                    self._endpoint_file.write_text(endpoint)
                except OSError:
                    pass

    def _last_endpoint(self) -> str:
        try:
            return self._endpoint_file.read_text().strip()
        except OSError:
            return ""

    def locate(self, account: str, region: str, function_name: str,
               qualifier: str | None = None) -> tuple[str, str, str | None]:
        """(account, name, qualifier) of a name, partial ARN or ARN; raises AWS's errors."""
        match = _FUNCTION_ARN.match(function_name or "")
        if match is None:
            raise errors.Validation(
                f"1 validation error detected: Value '{function_name}' at 'functionName' "
                "failed to satisfy constraint: Member must satisfy regular expression pattern: "
                "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?"
                "(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?")
        if match.group("region") and match.group("region") != region:
            raise errors.InvalidParameterValue(
                f"Functions from '{match.group('region')}' are not reachable in this region "
                f"('{region}')")
        derived = match.group("qualifier")
        if derived and qualifier and derived != qualifier:
            raise errors.InvalidParameterValue(
                "The derived qualifier from the function name does not match the specified "
                "qualifier.")
        return match.group("account") or account, match.group("name"), derived or qualifier

    def function_doc(self, account: str, region: str, name: str) -> dict:
        doc = self.lambdas.function(account, region, name)
        if doc is None:
            raise errors.function_not_found(function_arn(account, region, name))
        return doc

    def version_doc(self, account: str, region: str, name: str,
                    qualifier: str | None = None) -> dict:
        """The configuration a qualifier names: $LATEST, a version, or an alias's version."""
        version = qualifier or "$LATEST"
        if not version.isdigit() and version != "$LATEST":
            alias = self.lambdas.get("lambda_aliases", account, region, name, version)
            if alias is None:
                if self.lambdas.function(account, region, name) is None:
                    raise errors.function_not_found(function_arn(account, region, name))
                raise errors.ResourceNotFound(
                    f"Function not found: {function_arn(account, region, name, version)}")
            version = alias["FunctionVersion"]
        doc = self.lambdas.get("lambda_versions", account, region, name, version)
        if doc is None:
            raise errors.function_not_found(
                function_arn(account, region, name, qualifier if qualifier else None))
        return doc

    def _own(self, ctx: RequestContext, params: dict, member: str = "FunctionName",
             qualifier: str | None = None) -> tuple[str, str | None]:
        """(name, qualifier) of a function of the caller's account that exists."""
        self.note_endpoint(ctx)
        account, name, qualifier = self.locate(ctx.account_id, ctx.region, params[member],
                                               qualifier if qualifier is not None
                                               else params.get("Qualifier"))
        if account != ctx.account_id or self.lambdas.function(account, ctx.region, name) is None:
            raise errors.function_not_found(function_arn(account, ctx.region, name))
        return name, qualifier

    # -- what CreateFunction and UpdateFunctionConfiguration share ------------------------
    def _check_role(self, ctx: RequestContext, role_arn: str) -> None:
        parsed = conf.parse_role(role_arn)
        if parsed is None:
            raise errors.Validation(
                f"1 validation error detected: Value '{role_arn}' at 'role' failed to satisfy "
                "constraint: Member must satisfy regular expression pattern: "
                "arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+")
        role = self.iam.role(*parsed)
        if role is None or role["arn"] != role_arn or not trust_allows(
                role["trust_policy"], "sts:AssumeRole", role["arn"],
                service("lambda.amazonaws.com"), {}):
            raise errors.InvalidParameterValue(conf.ROLE_NOT_ASSUMABLE)

    def _layers(self, ctx: RequestContext, arns: list[str]) -> tuple[list[dict], list[str], int]:
        """(Layers as AWS shows them, their packages, their unzipped bytes)."""
        shown, digests, unzipped = [], [], 0
        for arn in arns:
            parsed = conf.parse_layer_version(arn)
            found = None
            if parsed is not None and parsed[0] == ctx.region:
                found = self.lambdas.layer_version(parsed[1], parsed[0], parsed[2], parsed[3])
                self.layer_usable(ctx, parsed[1], found[1] if found else None, arn)
            if found is None:
                raise errors.InvalidParameterValue(f"Layer version {arn} does not exist.")
            shown.append({"Arn": arn, "CodeSize": found[0]["Content"]["CodeSize"]})
            digests.append(found[0]["_hex"])
            unzipped += found[0].get("_unzipped", 0)
        return shown, digests, unzipped

    def _check_unzipped(self, doc: dict) -> None:
        """Code and layers together: at most 250 MB unzipped, as AWS counts them."""
        total = doc["_code"]["unzipped"] + doc.get("_layers_unzipped", 0)
        if total > UNZIPPED_LIMIT:
            raise errors.InvalidParameterValue(
                f"Function code combined with layers exceeds the maximum allowed size of "
                f"{UNZIPPED_LIMIT} bytes. The actual size is {total} bytes.")

    def _apply_settings(self, ctx: RequestContext, doc: dict, params: dict) -> None:
        """Check what the request changes and write it into `doc`."""
        conf.check_settings(params)
        if params.get("Role") is not None:
            self._check_role(ctx, params["Role"])
            doc["Role"] = params["Role"]
        for member in ("Runtime", "Handler", "Description", "Timeout", "MemorySize",
                       "KMSKeyArn"):
            if params.get(member) is not None:
                doc[member] = params[member]
        if params.get("Environment") is not None:
            doc["Environment"] = conf.environment_response(params["Environment"].get("Variables"))
        if params.get("EphemeralStorage") is not None:
            doc["EphemeralStorage"] = {"Size": params["EphemeralStorage"]["Size"]}
        if params.get("Layers") is not None:
            doc["Layers"], doc["_layers"], doc["_layers_unzipped"] = self._layers(
                ctx, params["Layers"])
            if not doc["Layers"]:
                doc.pop("Layers")
        if params.get("VpcConfig") is not None:
            vpc = params["VpcConfig"]
            doc["VpcConfig"] = {"SubnetIds": vpc.get("SubnetIds", []),
                                "SecurityGroupIds": vpc.get("SecurityGroupIds", []),
                                "Ipv6AllowedForDualStack": vpc.get("Ipv6AllowedForDualStack",
                                                                   False), "VpcId": ""}
        if params.get("DeadLetterConfig") is not None:
            doc["DeadLetterConfig"] = dict(params["DeadLetterConfig"])
            if not doc["DeadLetterConfig"].get("TargetArn"):
                doc.pop("DeadLetterConfig")
        if params.get("TracingConfig") is not None:
            doc["TracingConfig"] = {"Mode": params["TracingConfig"].get("Mode", "PassThrough")}
        if params.get("LoggingConfig") is not None:
            doc["LoggingConfig"] = {**doc.get("LoggingConfig", {}), **params["LoggingConfig"]}
        if params.get("FileSystemConfigs"):
            raise errors.InvalidParameterValue(
                "Cloudlet has no EFS: FileSystemConfigs cannot be set.")

    def _zip_of(self, ctx: RequestContext, code: dict, operation: str) -> bytes:
        """The deployment package: inline, or read from Cloudlet's S3 as the caller."""
        if code.get("ImageUri"):
            conf.check_settings({"PackageType": "Image"})
        if code.get("ZipFile") is not None:
            if code.get("S3Bucket") or code.get("S3Key") or code.get("S3ObjectVersion"):
                raise errors.InvalidParameterValue(
                    "Please do not provide other FunctionCode properties when providing a "
                    "ZipFile")
            data = code["ZipFile"]
            data = data if isinstance(data, bytes) else base64.b64decode(data)
            check_zipped_size(data, operation)
            return data
        bucket, key = code.get("S3Bucket"), code.get("S3Key")
        if not bucket or not key:
            raise errors.InvalidParameterValue("Please provide a source for function code.")
        return self.read_s3(ctx, bucket, key, code.get("S3ObjectVersion"))

    def read_s3(self, ctx: RequestContext, bucket: str, key: str, version: str | None) -> bytes:
        """A package in S3, read through what S3 lets other services read (its `reads`), as
        the caller's account in the caller's region; S3's error is quoted in Lambda's."""
        try:
            return self.s3.object_bytes(ctx.account_id, ctx.region, bucket, key, version,
                                        ctx.caller)
        except S3Error as error:
            raise errors.InvalidParameterValue(
                f"Error occurred while GetObject. S3 Error Code: {error.code}. S3 Error "
                f"Message: {error.message}") from None

    # -- CreateFunction -------------------------------------------------------------------
    def create_function(self, ctx: RequestContext, params: dict) -> dict:
        self.note_endpoint(ctx)
        account, region = ctx.account_id, ctx.region
        given, name, qualifier = self.locate(account, region, params["FunctionName"])
        conf.check_name(name)
        if given != account or qualifier:
            raise errors.InvalidParameterValue(
                "Function name can only contain the name, not a qualifier or another "
                "account's ARN.")
        conf.check_settings(params)
        if not params.get("Runtime") or not params.get("Handler"):
            raise errors.InvalidParameterValue(conf.MANDATORY)
        if self.lambdas.function(account, region, name) is not None:
            raise errors.ResourceConflict(f"Function already exist: {name}")
        tags = params.get("Tags") or {}
        if len(tags) > 50:
            raise errors.InvalidParameterValue("Number of tags exceeds resource tag limit.")
        now = clock.timestamp()
        doc = {
            "FunctionName": name, "FunctionArn": function_arn(account, region, name),
            "Runtime": None, "Role": None, "Handler": None, "Description": "",
            "Timeout": 3, "MemorySize": 128, "Version": "$LATEST",
            "TracingConfig": {"Mode": "PassThrough"}, "PackageType": "Zip",
            "Architectures": list(params.get("Architectures") or ["x86_64"]),
            "EphemeralStorage": {"Size": 512},
            "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
            "LoggingConfig": {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{name}"},
            "RuntimeVersionConfig": {"RuntimeVersionArn": ""},
            "_pending_until": now + TRANSITION, "_created": now,
        }
        self._apply_settings(ctx, doc, params)
        doc["RuntimeVersionConfig"]["RuntimeVersionArn"] = runtime_version_arn(region,
                                                                               doc["Runtime"])
        data = self._zip_of(ctx, params["Code"], "CreateFunction")
        with self.write_lock:
            return self._create(ctx, name, doc, data, tags, bool(params.get("Publish")))

    def _create(self, ctx: RequestContext, name: str, doc: dict, data: bytes, tags: dict,
                publish: bool) -> dict:
        account, region = ctx.account_id, ctx.region
        now = doc["_created"]
        package = self.codes.add(data)
        self._set_code(doc, package)
        self._check_unzipped(doc)
        doc["LastModified"] = timestamp(now)
        doc["RevisionId"] = str(uuid.uuid4())
        function = {"Tags": dict(tags), "NextVersion": 1, "Concurrency": None}
        published = None
        if publish:
            published = self.version_from(doc, "1")
            function["NextVersion"] = 2
            function["Published"] = {"1": self.publish_digest(doc)}
        if not self.lambdas.create_function(account, region, name, function, doc, published):
            self.collect_code(package.hex)
            raise errors.ResourceConflict(f"Function already exist: {name}")
        return public(published or doc)

    @staticmethod
    def _set_code(doc: dict, package) -> None:
        doc["CodeSha256"], doc["CodeSize"] = package.sha256, package.size
        doc["_code"] = {"hex": package.hex, "unzipped": package.unzipped}

    # -- reading --------------------------------------------------------------------------
    def get_function(self, ctx: RequestContext, params: dict) -> dict:
        name, qualifier = self._own(ctx, params)
        doc = self.version_doc(ctx.account_id, ctx.region, name, qualifier)
        function = self.function_doc(ctx.account_id, ctx.region, name)
        result = {"Configuration": public(doc, qualified=qualifier == "$LATEST"),
                  "Code": {"RepositoryType": "S3",
                           "Location": self.code_url(doc["_code"]["hex"])}}
        if function.get("Tags"):
            result["Tags"] = dict(function["Tags"])
        if function.get("Concurrency") is not None:
            result["Concurrency"] = {"ReservedConcurrentExecutions": function["Concurrency"]}
        return result

    def get_function_configuration(self, ctx: RequestContext, params: dict) -> dict:
        name, qualifier = self._own(ctx, params)
        return public(self.version_doc(ctx.account_id, ctx.region, name, qualifier),
                      qualified=qualifier == "$LATEST")

    def list_functions(self, ctx: RequestContext, params: dict) -> dict:
        if params.get("FunctionVersion") not in (None, "ALL"):
            raise errors.InvalidParameterValue(
                "Value for FunctionVersion is invalid. Valid value is ALL.")
        if params.get("FunctionVersion") == "ALL":
            docs = self.lambdas.all_versions(ctx.account_id, ctx.region)
        else:
            docs = self.lambdas.latest_versions(ctx.account_id, ctx.region)
        page, marker = paginate(docs, params, lambda d: f"{d['FunctionName']}:{d['Version']}")
        result = {"Functions": [public(d) for d in page]}
        if marker:
            result["NextMarker"] = marker
        return result

    # -- updating -------------------------------------------------------------------------
    def _check_updatable(self, doc: dict, revision: str | None) -> None:
        now = clock.timestamp()
        if now < doc.get("_pending_until", 0):
            raise errors.ResourceConflict(
                "The operation cannot be performed at this time. The function is currently "
                "in the following state: Pending")
        if now < doc.get("_updating_until", 0):
            raise errors.ResourceConflict(
                "The operation cannot be performed at this time. An update is in progress "
                f"for resource: {doc['FunctionArn']}")
        if revision is not None and revision != doc["RevisionId"]:
            raise errors.PreconditionFailed()

    def _save_latest(self, ctx: RequestContext, name: str, before: dict, doc: dict,
                     publish: bool) -> dict:
        now = clock.timestamp()
        doc.update(LastModified=timestamp(now), RevisionId=str(uuid.uuid4()),
                   _updating_until=now + TRANSITION)
        self.lambdas.put_version(ctx.account_id, ctx.region, name, doc)
        if config_digest(before) != config_digest(doc):
            self.retire(f"{function_arn(ctx.account_id, ctx.region, name)}:$LATEST:")
        if publish:
            return public(self.publish(ctx.account_id, ctx.region, name, doc))
        return public(doc)

    def update_function_code(self, ctx: RequestContext, params: dict) -> dict:
        name, _ = self._own(ctx, params)
        self._check_updatable(self.version_doc(ctx.account_id, ctx.region, name),
                              params.get("RevisionId"))
        data = self._zip_of(ctx, params, "UpdateFunctionCode")
        with self.write_lock:  # checked again: another update may have won meanwhile
            before = self.version_doc(ctx.account_id, ctx.region, name)
            self._check_updatable(before, params.get("RevisionId"))
            package = self.codes.add(data)
            doc = dict(before)
            self._set_code(doc, package)
            self._check_unzipped(doc)
            if params.get("Architectures"):
                doc["Architectures"] = list(params["Architectures"])
            if params.get("DryRun"):
                result = public(doc)
            else:
                result = self._save_latest(ctx, name, before, doc, bool(params.get("Publish")))
        self.collect_code(before["_code"]["hex"])
        return result

    def update_function_configuration(self, ctx: RequestContext, params: dict) -> dict:
        name, _ = self._own(ctx, params)
        with self.write_lock:
            before = self.version_doc(ctx.account_id, ctx.region, name)
            self._check_updatable(before, params.get("RevisionId"))
            doc = json.loads(json.dumps(before))
            self._apply_settings(ctx, doc, params)
            self._check_unzipped(doc)
            doc["RuntimeVersionConfig"] = {"RuntimeVersionArn": runtime_version_arn(
                ctx.region, doc["Runtime"])}
            return self._save_latest(ctx, name, before, doc, False)

    def delete_function(self, ctx: RequestContext, params: dict) -> dict:
        name, qualifier = self._own(ctx, params)
        account, region = ctx.account_id, ctx.region
        arn = function_arn(account, region, name)
        if qualifier is None:
            packages = {v["_code"]["hex"] for v in self.lambdas.versions(account, region, name)}
            self.lambdas.delete_function(account, region, name)  # event source mappings stay
            self.retire(f"{arn}:")
            for hex_digest in packages:
                self.collect_code(hex_digest)
            return {}
        if qualifier == "$LATEST":
            raise errors.InvalidParameterValue(
                "$LATEST version cannot be deleted without deleting the function.")
        if not qualifier.isdigit():
            raise errors.InvalidParameterValue(
                "Deletion of aliases is not supported. Use DeleteAlias instead.")
        doomed = self.lambdas.get("lambda_versions", account, region, name, qualifier)
        if doomed is None:
            raise errors.function_not_found(f"{arn}:{qualifier}")
        using = [a["Name"] for a in self.lambdas.items("lambda_aliases", account, region, name)
                 if a["FunctionVersion"] == qualifier
                 or qualifier in (a.get("RoutingConfig") or {}).get("AdditionalVersionWeights",
                                                                    {})]
        if using:
            raise errors.ResourceConflict(
                "Unable to delete version because the following aliases reference it: "
                f"[{', '.join(using)}]")
        self.lambdas.delete("lambda_versions", account, region, name, qualifier)
        self.lambdas.delete("lambda_policies", account, region, name, qualifier)
        self.retire(f"{arn}:{qualifier}:")
        self.collect_code(doomed["_code"]["hex"])
        return {}

    def collect_code(self, hex_digest: str) -> None:
        """Remove a package once no function version or layer version uses it."""
        with self.write_lock:
            if not self.lambdas.code_in_use(hex_digest):
                self.codes.remove(hex_digest)

    def retire(self, key_prefix: str) -> None:
        engine = getattr(self, "engine", None)
        if engine is not None:
            engine.retire(key_prefix)

def runtime_version_arn(region: str, runtime: str | None) -> str:
    digest = hashlib.sha256(f"cloudlet:{runtime}".encode()).hexdigest()
    return f"arn:aws:lambda:{region}::runtime:{digest}"
