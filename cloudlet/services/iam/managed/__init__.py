"""The catalog of AWS-managed policies (`arn:aws:iam::aws:policy/...`) with their real
documents, vendored from a public dataset; see README.md for the source and the refresh."""

from __future__ import annotations

import datetime as dt
import functools
import json
from dataclasses import dataclass, field
from pathlib import Path

_DATA = Path(__file__).with_name("policies.jsonl")


@dataclass(frozen=True)
class ManagedPolicy:
    name: str
    arn: str
    path: str
    default_version: str
    created: dt.datetime
    updated: dt.datetime
    version_created: dt.datetime
    raw: dict = field(repr=False, compare=False)

    @functools.cached_property
    def document(self) -> str:
        """The default version's document, as JSON text."""
        return json.dumps(self.raw, indent=4)


def _when(text: str | None) -> dt.datetime:
    if not text:
        return dt.datetime(2015, 2, 6, tzinfo=dt.UTC)
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _policy(line: str) -> ManagedPolicy:
    raw = json.loads(line)
    return ManagedPolicy(
        name=raw["PolicyName"], arn=raw["Arn"], path=raw["Path"],
        default_version=raw["DefaultVersionId"], created=_when(raw["CreateDate"]),
        updated=_when(raw["UpdateDate"]), version_created=_when(raw["VersionCreateDate"]),
        raw=raw["Document"],
    )


@functools.cache
def catalog() -> dict[str, ManagedPolicy]:
    """Every AWS-managed policy by ARN, in name order."""
    with _DATA.open() as f:
        policies = [_policy(line) for line in f if line.strip()]
    return {p.arn: p for p in policies}


def get(arn: str) -> ManagedPolicy | None:
    return catalog().get(arn)
