"""EC2: one provider, its table of contents. Each family is a mixin in its own module:

    network/vpcs.py            VPCs, their attributes and CIDR blocks
    network/subnets.py         subnets and default subnets
    network/route_tables.py    route tables, routes, associations
    network/gateways.py        internet, egress-only and NAT gateways
    network/addresses.py       Elastic IPs
    network/security_groups.py security groups and their rules (sg_rules.py)
    network/network_acls.py    network ACLs and their entries
    network/interfaces.py      network interfaces (ENIs)
    network/endpoints.py       VPC endpoints (Gateway and Interface)
    network/prefix_lists.py    AWS-managed prefix lists
    network/dhcp.py            DHCP options sets
    network/flow_logs.py       flow logs
    network/default_vpc.py     the default VPC
    network/place.py           regions, Availability Zones, account attributes
    compute/metadata.py        IMDS at 169.254.169.254 in every VPC (metadata_*.py, identity.py,
                               instance_credentials.py)
    compute/metrics.py         AWS/EC2 metrics of running instances, on the bus
    tags.py                    tags on every resource
    dry_run.py                 DryRun, for every operation
    base.py                    records, the fabric port, Describe*'s ids/filters/pages
"""

from __future__ import annotations

from cloudlet.services.ec2.base import Ec2Base
from cloudlet.services.ec2.compute.metadata import MetadataOperations
from cloudlet.services.ec2.compute.metrics import MetricsOperations
from cloudlet.services.ec2.dry_run import DryRun
from cloudlet.services.ec2.network.addresses import AddressOperations
from cloudlet.services.ec2.network.default_vpc import DefaultVpcOperations
from cloudlet.services.ec2.network.dhcp import DhcpOperations
from cloudlet.services.ec2.network.endpoints import EndpointOperations
from cloudlet.services.ec2.network.flow_logs import FlowLogOperations
from cloudlet.services.ec2.network.gateways import GatewayOperations
from cloudlet.services.ec2.network.interfaces import InterfaceOperations
from cloudlet.services.ec2.network.network_acls import NetworkAclOperations
from cloudlet.services.ec2.network.place import PlaceOperations
from cloudlet.services.ec2.network.prefix_lists import PrefixListOperations
from cloudlet.services.ec2.network.route_tables import RouteTableOperations
from cloudlet.services.ec2.network.security_groups import SecurityGroupOperations
from cloudlet.services.ec2.network.subnets import SubnetOperations
from cloudlet.services.ec2.network.vpcs import VpcOperations
from cloudlet.services.ec2.tags import TagOperations


class Ec2Provider(
    VpcOperations,
    SubnetOperations,
    RouteTableOperations,
    GatewayOperations,
    AddressOperations,
    SecurityGroupOperations,
    NetworkAclOperations,
    InterfaceOperations,
    EndpointOperations,
    PrefixListOperations,
    DhcpOperations,
    FlowLogOperations,
    DefaultVpcOperations,
    PlaceOperations,
    TagOperations,
    MetadataOperations,
    MetricsOperations,
    DryRun,
    Ec2Base,
):
    """The VPC half of EC2; the compute half (instances, images, volumes) comes next."""
