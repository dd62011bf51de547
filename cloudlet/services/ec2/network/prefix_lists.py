"""AWS-managed prefix lists, and where Cloudlet's "public" AWS endpoints live as seen from
inside a VPC. Defined once here; the fabric routes these ranges to Cloudlet's API.

    SERVICE_RANGE       198.18.0.0/15: every AWS endpoint Cloudlet answers inside a VPC
    API_ADDRESS         198.18.0.10: the regional endpoints (sts, ec2, lambda, ...)
    S3_ADDRESS          198.19.0.10: S3's endpoints, inside S3's prefix list
    DYNAMODB_ADDRESS    198.19.1.10: DynamoDB's, inside its list (not served yet)
    com.amazonaws.<region>.s3        pl-63a5400a  198.19.0.0/24
    com.amazonaws.<region>.dynamodb  pl-02cd2c6b  198.19.1.0/24

(The ids are us-east-1's on AWS; Cloudlet uses them in every region.) DescribePrefixLists,
DescribeManagedPrefixLists and GetManagedPrefixListEntries answer from this table.
"""

from __future__ import annotations

from dataclasses import dataclass

from cloudlet.services.ec2 import errors
from cloudlet.services.ec2.filters import Filters, declare
from cloudlet.services.ec2.pagination import page

SERVICE_RANGE = "198.18.0.0/15"
API_ADDRESS = "198.18.0.10"
S3_ADDRESS = "198.19.0.10"
DYNAMODB_ADDRESS = "198.19.1.10"
# where Cloudlet listens beyond an internet gateway (and, in their lists, gateway endpoints)
SERVICE_ADDRESSES = (API_ADDRESS, S3_ADDRESS, DYNAMODB_ADDRESS)


@dataclass(frozen=True)
class ManagedList:
    service: str  # "s3", "dynamodb"
    id: str
    cidrs: tuple[str, ...]

    def name(self, region: str) -> str:
        return f"com.amazonaws.{region}.{self.service}"


MANAGED = (
    ManagedList("s3", "pl-63a5400a", ("198.19.0.0/24",)),
    ManagedList("dynamodb", "pl-02cd2c6b", ("198.19.1.0/24",)),
)
BY_ID = {m.id: m for m in MANAGED}

declare("prefix-list", {"prefix-list-id": "PrefixListId", "prefix-list-name": "PrefixListName"})
declare("managed-prefix-list", {"prefix-list-id": "PrefixListId",
                                "prefix-list-name": "PrefixListName",
                                "owner-id": "OwnerId"})


def managed_lists(region: str) -> list[dict]:
    return [{"PrefixListId": m.id, "PrefixListName": m.name(region), "Cidrs": list(m.cidrs)}
            for m in MANAGED]


def by_service_name(name: str, region: str) -> ManagedList | None:
    return next((m for m in MANAGED if m.name(region) == name), None)


def check_prefix_list(id: str) -> ManagedList:
    found = BY_ID.get(id)
    if found is None:
        raise errors.PrefixListNotFound(id=id)
    return found


class PrefixListOperations:
    def describe_prefix_lists(self, ctx, params):
        filters = Filters.compile("prefix-list", params.get("Filters"))
        wanted = params.get("PrefixListIds")
        for id in wanted or []:
            check_prefix_list(id)
        docs = [{**d, "_seq": i, "_id": d["PrefixListId"]}
                for i, d in enumerate(managed_lists(ctx.region))
                if (not wanted or d["PrefixListId"] in wanted) and filters.matches(d)]
        docs, token = page(docs, params)
        return {"PrefixLists": [_public(d) for d in docs], "NextToken": token}

    def describe_managed_prefix_lists(self, ctx, params):
        filters = Filters.compile("managed-prefix-list", params.get("Filters"))
        wanted = params.get("PrefixListIds")
        docs = []
        for i, m in enumerate(MANAGED):
            doc = {"PrefixListId": m.id, "AddressFamily": "IPv4", "State": "create-complete",
                   "PrefixListArn": f"arn:aws:ec2:{ctx.region}:aws:prefix-list/{m.id}",
                   "PrefixListName": m.name(ctx.region), "Version": 1, "Tags": [],
                   "OwnerId": "AWS", "_seq": i, "_id": m.id}
            if (not wanted or m.id in wanted) and filters.matches(doc):
                docs.append(doc)
        docs, token = page(docs, params, minimum=1, maximum=100)
        return {"PrefixLists": [_public(d) for d in docs], "NextToken": token}

    def get_managed_prefix_list_entries(self, ctx, params):
        found = check_prefix_list(params["PrefixListId"])
        docs = [{"Cidr": cidr, "_seq": i, "_id": cidr} for i, cidr in enumerate(found.cidrs)]
        docs, token = page(docs, params, minimum=1, maximum=100)
        return {"Entries": [_public(d) for d in docs], "NextToken": token}


def _public(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if k[0] != "_"}
