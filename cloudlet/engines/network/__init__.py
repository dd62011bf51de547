"""The VPC fabric: networks that enforce their own rules, from namespaces and nftables.

(API documentation: see below; written once the API settles.)
"""

from .fabric import Fabric, FabricUnavailable
from .model import (
    Acl,
    AclEntry,
    Endpoint,
    Flow,
    Interface,
    InternetGateway,
    InvalidSpec,
    NatGateway,
    Network,
    Route,
    Rule,
    SecurityGroup,
    Subnet,
)
from .router import FabricError

__all__ = ["Acl", "AclEntry", "Endpoint", "Fabric", "FabricError", "FabricUnavailable", "Flow",
           "InternetGateway", "Interface", "InvalidSpec", "NatGateway", "Network", "Route",
           "Rule", "SecurityGroup", "Subnet"]
