"""What every Lambda module shares: ARNs, timestamps, a configuration as AWS answers it
(with its state at this moment), and Marker/MaxItems pages."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime

from cloudlet import clock
from cloudlet.services.lambda_ import errors
from cloudlet.services.lambda_.runtimes import mismatch

TRANSITION = 0.2
PAGE = 50
_CONFIG_KEYS = ("Runtime", "Handler", "Role", "MemorySize", "Timeout", "EphemeralStorage",
                "Environment", "Layers", "Architectures", "TracingConfig", "LoggingConfig")


def function_arn(account: str, region: str, name: str, qualifier: str | None = None) -> str:
    arn = f"arn:aws:lambda:{region}:{account}:function:{name}"
    return f"{arn}:{qualifier}" if qualifier else arn


def timestamp(moment: float | None = None) -> str:
    """Lambda's LastModified: 2026-11-26T23:10:00.000+0000."""
    when = datetime.fromtimestamp(clock.timestamp() if moment is None else moment, UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}+0000"


def public(doc: dict, qualified: bool = False) -> dict:
    """A stored configuration as AWS answers it, with its state at this moment."""
    now = clock.timestamp()
    out = {k: v for k, v in doc.items() if not k.startswith("_")}
    if now < doc.get("_pending_until", 0):
        out.update(State="Pending", StateReason="The function is being created.",
                   StateReasonCode="Creating", LastUpdateStatus="InProgress",
                   LastUpdateStatusReason="The function is being created.",
                   LastUpdateStatusReasonCode="Creating")
    else:
        out["State"] = "Active"
        out["LastUpdateStatus"] = ("InProgress" if now < doc.get("_updating_until", 0)
                                   else "Successful")
    note = mismatch(out.get("Runtime"))
    if note and "RuntimeVersionConfig" in out:
        out["RuntimeVersionConfig"] = {**out["RuntimeVersionConfig"], "Error": {
            "ErrorCode": "RuntimeVersionMismatch", "Message": note}}
    if qualified and out["Version"] == "$LATEST":
        out["FunctionArn"] = f"{out['FunctionArn']}:$LATEST"
    return out


def config_digest(doc: dict) -> str:
    """What the execution environment depends on, hashed (the engine's key changes with it)."""
    relevant = {k: doc.get(k) for k in _CONFIG_KEYS}
    relevant["_code"] = doc.get("_code")
    relevant["_layers"] = doc.get("_layers")
    return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()[:16]


def paginate(items: list, params: dict, key, page: int = PAGE) -> tuple[list, str | None]:
    """Marker/MaxItems pages: the marker is the last item's key, base64 encoded."""
    size = min(params.get("MaxItems") or page, page if page else 10_000)
    start = 0
    if params.get("Marker"):
        try:
            after = base64.urlsafe_b64decode(params["Marker"].encode()).decode()
        except (ValueError, UnicodeDecodeError):
            raise errors.InvalidParameterValue("Invalid marker.") from None
        keys = [key(i) for i in items]
        start = next((n + 1 for n, k in enumerate(keys) if k == after), len(items))
    chosen = items[start:start + size]
    more = start + size < len(items)
    marker = base64.urlsafe_b64encode(key(chosen[-1]).encode()).decode() if more and chosen \
        else None
    return chosen, marker
