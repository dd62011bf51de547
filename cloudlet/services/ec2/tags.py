"""Tags on every EC2 resource: CreateTags, DeleteTags, DescribeTags, and the
TagSpecifications of each Create* (`spec_tags`).

Tags live in `ec2_tags` (one row per key), so `tag:Key` filters and DescribeTags are index
lookups; Describe* puts them back in each document under the kind's tags member."""

from __future__ import annotations

from cloudlet.services.ec2 import errors
from cloudlet.services.ec2.filters import Filters, declare
from cloudlet.services.ec2.ids import KINDS, kind_of
from cloudlet.services.ec2.pagination import page
from cloudlet.services.ec2.store import View

MAX_TAGS = 50
# Kinds whose Describe* shows an empty tag list (AWS omits it for the others).
ALWAYS_LISTED = {"security-group-rule"}

declare("tag", {"key": "Key", "value": "Value", "resource-id": "ResourceId",
                "resource-type": "ResourceType"})


def check_tags(tags: list[dict]) -> list[dict]:
    for tag in tags:
        key = tag.get("Key")
        if key is None:
            raise errors.MissingParameter(name="Tag.Key")
        if not key or len(key) > 128:
            raise errors.bad_value(key, "Tag.Key",
                                   "Tag keys must be between 1 and 128 characters.")
        if key.lower().startswith("aws:"):
            raise errors.InvalidParameterValue(
                message="Tag keys starting with 'aws:' are reserved for internal use")
        if len(tag.get("Value") or "") > 256:
            raise errors.bad_value(tag.get("Value"), "Tag.Value",
                                   "Tag values may be at most 256 characters.")
    return tags


def spec_tags(params: dict, kind: str) -> list[dict]:
    """The tags that a Create*'s TagSpecifications give the new resource of `kind`."""
    tags: list[dict] = []
    for spec in params.get("TagSpecifications") or []:
        resource_type = spec.get("ResourceType")
        if resource_type is None:
            raise errors.InvalidParameterValue(
                message="Tag specification resource type must have a value")
        if resource_type != kind:
            raise errors.InvalidParameterValue(
                message=f"'{resource_type}' is not a valid taggable resource type for this "
                "operation.")
        tags.extend(spec.get("Tags") or [])
    return check_tags(tags)


def apply_tags(view: View, kind: str, id: str, tags: list[dict]) -> None:
    existing = view.tags_of([id]).get(id, [])
    if len({t["Key"] for t in existing} | {t["Key"] for t in tags}) > MAX_TAGS:
        raise errors.TagLimitExceeded()
    view.set_tags(id, kind, tags)


def attach_tags(view: View, kind: str, docs: list[dict]) -> list[dict]:
    """Put each document's tags back under its kind's tags member."""
    if not docs:
        return docs
    member = KINDS[kind].tags_member
    ids = [d[KINDS[kind].id_member] for d in docs]
    tags = view.tags_of(ids if len(ids) <= 500 else None, kind=kind)
    always = kind in ALWAYS_LISTED
    for doc, id in zip(docs, ids, strict=True):
        found = tags.get(id)
        if found or always:
            doc[member] = found or []
    return docs


class TagOperations:
    def _tagged_resources(self, view: View, resources: list[str]) -> list[tuple[str, str]]:
        found = []
        for resource in resources:
            kind = kind_of(resource)
            if kind is None:
                prefix = resource.split("-", 1)[0]
                if prefix in errors.COMPUTE_NOT_FOUND and "-" in resource:
                    raise errors.COMPUTE_NOT_FOUND[prefix](id=resource)
                raise errors.InvalidId(id=resource)
            if view.kind_of_id(resource) != kind.name:
                raise errors.not_found(kind.name, resource)
            found.append((resource, kind.name))
        return found

    def create_tags(self, ctx, params):
        tags = check_tags(params.get("Tags") or [])
        with self.records.write(ctx.account_id, ctx.region) as view:
            for resource, kind in self._tagged_resources(view, params.get("Resources") or []):
                apply_tags(view, kind, resource, tags)
        return {}

    def delete_tags(self, ctx, params):
        with self.records.write(ctx.account_id, ctx.region) as view:
            for resource, _kind in self._tagged_resources(view, params.get("Resources") or []):
                if not params.get("Tags"):
                    for tag in view.tags_of([resource]).get(resource, []):
                        view.remove_tag(resource, tag["Key"])
                for tag in params.get("Tags") or []:
                    view.remove_tag(resource, tag["Key"], tag.get("Value"))
        return {}

    def describe_tags(self, ctx, params):
        filters = Filters.compile("tag", params.get("Filters"))
        clauses = []
        for f in filters.filters:
            column = {"key": "key", "value": "value", "resource-id": "id",
                      "resource-type": "kind"}.get(f.name)
            if column and f.exact and f.values:
                clauses.append((f"{column} IN ({','.join('?' * len(f.values))})", f.values))
        view = self.records.read(ctx.account_id, ctx.region)
        docs = [{"ResourceId": id, "ResourceType": kind, "Key": key, "Value": value,
                 "_seq": 0, "_id": f"{id}\x00{key}"}
                for id, kind, key, value in view.tag_rows(clauses)]
        docs = [d for d in docs if filters.matches(d)]
        docs, token = page(docs, params, maximum=1000)
        return {"Tags": [{k: v for k, v in d.items() if k[0] != "_"} for d in docs],
                "NextToken": token}
