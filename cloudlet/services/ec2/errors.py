"""EC2's errors, as data. Its model declares none: each code, status and message here is
AWS's own (the API reference's error list and what its endpoints answer).

Every error is a class with a message template filled from keywords, never positions:

    raise VpcNotFound(id="vpc-1")          # The vpc ID 'vpc-1' does not exist
    raise not_found("subnet", "subnet-1")  # the kind's NotFound error
    raise malformed("vpc", "vpc-xyz")      # the kind's Malformed error
"""

from __future__ import annotations

from cloudlet.errors import ServiceError


class Ec2Error(ServiceError):
    status = 400
    template = ""

    def __init__(self, message: str | None = None, *, code: str | None = None,
                 status: int | None = None, **values):
        super().__init__(message if message is not None else self.template.format(**values),
                         code=code, status=status)


def _error(code: str, template: str, status: int = 400) -> type[Ec2Error]:
    name = code.replace(".", "").replace("-", "")
    return type(name, (Ec2Error,), {"code": code, "template": template, "status": status})


# -- common ------------------------------------------------------------------------------
InvalidParameterValue = _error("InvalidParameterValue", "{message}")
InvalidParameter = _error("InvalidParameter", "{message}")
InvalidParameterCombination = _error("InvalidParameterCombination", "{message}")
MissingParameter = _error("MissingParameter", "The request must contain the parameter {name}")
InvalidFilter = _error("InvalidFilter", "The filter '{name}' is invalid")
InvalidPaginationToken = _error("InvalidPaginationToken",
                                "Invalid pagination token: {token}")
InvalidId = _error("InvalidID", 'The ID \'{id}\' is not valid')
DryRunOperation = _error("DryRunOperation",
                         "Request would have succeeded, but DryRun flag is set.", 412)
UnsupportedOperation = _error("UnsupportedOperation", "{message}")
DependencyViolation = _error("DependencyViolation", "{message}")
TagLimitExceeded = _error("TagLimitExceeded",
                          "The maximum number of Tags for a resource has been reached.")
InvalidInstanceNotFound = _error("InvalidInstanceID.NotFound",
                                 "The instance ID '{id}' does not exist")

# -- VPCs, subnets ---------------------------------------------------------------------
VpcNotFound = _error("InvalidVpcID.NotFound", "The vpc ID '{id}' does not exist")
InvalidVpcRange = _error("InvalidVpc.Range", "The CIDR '{cidr}' is invalid.")
SubnetNotFound = _error("InvalidSubnetID.NotFound", "The subnet ID '{id}' does not exist")
InvalidSubnetRange = _error("InvalidSubnet.Range", "The CIDR '{cidr}' is invalid.")
InvalidSubnetConflict = _error("InvalidSubnet.Conflict",
                               "The CIDR '{cidr}' conflicts with another subnet")
CidrConflict = _error("InvalidVpc.CidrConflict", "{message}")
CidrLimitExceeded = _error("CidrLimitExceeded",
                           "This network '{vpc}' has met its maximum number of allowed CIDRs: 5")
DefaultVpcAlreadyExists = _error("DefaultVpcAlreadyExists",
                                 "A Default VPC already exists for this account in this region.")
DefaultSubnetAlreadyExists = _error("DefaultSubnetAlreadyExistsInAvailabilityZone",
                                    "A Default Subnet already exists in availability zone {az}.")
NoDefaultVpc = _error("DefaultVpcDoesNotExist", "No default VPC for this user")
InvalidCidrAssociationNotFound = _error(
    "InvalidVpcCidrBlockAssociationID.NotFound",
    "The vpc CIDR block association ID '{id}' does not exist")

# -- security groups ------------------------------------------------------------------
GroupNotFound = _error("InvalidGroup.NotFound", "The security group '{id}' does not exist")
GroupNotFoundInVpc = _error("InvalidGroup.NotFound",
                            "The security group '{name}' does not exist in VPC '{vpc}'")
GroupNotFoundInDefaultVpc = _error(
    "InvalidGroup.NotFound", "The security group '{name}' does not exist in default VPC '{vpc}'")
GroupDuplicate = _error("InvalidGroup.Duplicate",
                        "The security group '{name}' already exists for VPC '{vpc}'")
GroupReserved = _error("InvalidGroup.Reserved",
                       "The security group 'default' is reserved and cannot be used.")
CannotDeleteDefaultGroup = _error("CannotDelete",
                                  "the specified group: \"{id}\" name: \"default\" cannot be "
                                  "deleted by a user")
PermissionDuplicate = _error("InvalidPermission.Duplicate",
                             "the specified rule \"{rule}\" already exists")
PermissionNotFound = _error("InvalidPermission.NotFound",
                            "The specified rule does not exist in this security group.")
RulesLimitExceeded = _error("RulesPerSecurityGroupLimitExceeded",
                            "The maximum number of rules per security group has been reached.")
RuleNotFound = _error("InvalidSecurityGroupRuleId.NotFound",
                      "The security group rule ID '{id}' does not exist")
RuleMalformed = _error("InvalidSecurityGroupRuleId.Malformed",
                       "The security group rule ID '{id}' is malformed")

# -- routing, gateways ---------------------------------------------------------------
RouteTableNotFound = _error("InvalidRouteTableID.NotFound",
                            "The routeTable ID '{id}' does not exist")
RouteNotFound = _error("InvalidRoute.NotFound",
                       "no route with destination-cidr-block {cidr} in route table {table}")
RouteAlreadyExists = _error("RouteAlreadyExists",
                            "The route identified by {cidr} already exists.")
InvalidRouteDestination = _error("InvalidParameterValue",
                                 "Value ({cidr}) for parameter destinationCidrBlock is invalid. "
                                 "This is not a valid CIDR block.")
InvalidRouteLocal = _error("InvalidParameterValue",
                           "The destination CIDR block {cidr} is equal to or more specific "
                           "than one of this VPC's CIDR blocks. This route can target only "
                           "an interface or an instance.")
CannotReplaceLocal = _error("InvalidParameterValue",
                            "cannot remove local route {cidr} in route table {table}")
GatewayNotFound = _error("InvalidGatewayID.NotFound", "The gateway ID '{id}' does not exist")
GatewayNotAttached = _error("Gateway.NotAttached",
                            "resource {id} is not attached to network {vpc}")
InternetGatewayNotFound = _error("InvalidInternetGatewayID.NotFound",
                                 "The internetGateway ID '{id}' does not exist")
ResourceAlreadyAssociated = _error("Resource.AlreadyAssociated",
                                   "resource {id} is already attached to network {vpc}")
EgressOnlyNotFound = _error("InvalidEgressOnlyInternetGatewayId.NotFound",
                            "The egressOnlyInternetGateway ID '{id}' does not exist")
NatGatewayNotFound = _error("NatGatewayNotFound", "NAT gateway {id} was not found")
NetworkAclNotFound = _error("InvalidNetworkAclID.NotFound",
                            "The networkAcl ID '{id}' does not exist")
NetworkAclEntryExists = _error("NetworkAclEntryAlreadyExists",
                               "The network acl entry identified by {number} already exists.")
NetworkAclEntryNotFound = _error("InvalidNetworkAclEntry.NotFound",
                                 "The network acl entry identified by {number} does not exist.")

# -- addresses, interfaces, endpoints, DHCP, flow logs ----------------------------------
AllocationNotFound = _error("InvalidAllocationID.NotFound",
                            "The allocation ID '{id}' does not exist")
AddressNotFound = _error("InvalidAddress.NotFound", "Address '{ip}' not found.")
AddressInUse = _error("InvalidIPAddress.InUse", "Address {ip} is in use.")
AddressLimitExceeded = _error("AddressLimitExceeded",
                              "The maximum number of addresses has been reached.")
AssociationNotFound = _error("InvalidAssociationID.NotFound",
                             "The association ID '{id}' does not exist")
InterfaceNotFound = _error("InvalidNetworkInterfaceID.NotFound",
                           "The networkInterface ID '{id}' does not exist")
AttachmentNotFound = _error("InvalidAttachmentID.NotFound",
                            "The attachment ID '{id}' does not exist")
InsufficientAddresses = _error("InsufficientFreeAddressesInSubnet",
                               "insufficient free addresses in subnet {id}")
EndpointNotFound = _error("InvalidVpcEndpointId.NotFound",
                          "The Vpc Endpoint Id '{id}' does not exist")
ServiceNotFound = _error("InvalidServiceName", "The Vpc Endpoint Service '{name}' does not exist")
DhcpOptionsNotFound = _error("InvalidDhcpOptionID.NotFound",
                             "The dhcpOption ID '{id}' does not exist")
PrefixListNotFound = _error("InvalidPrefixListID.NotFound",
                            "The prefix list ID '{id}' does not exist")
FlowLogNotFound = _error("InvalidFlowLogId.NotFound", "Flow Log {id} does not exist")
FlowLogAlreadyExists = _error("FlowLogAlreadyExists",
                              "Error. There is an existing Flow Log with the same configuration "
                              "and log destination.")
ZoneNotFound = _error("InvalidAvailabilityZone",
                      "Value ({zone}) for parameter availabilityZone is invalid. Subnets can "
                      "currently only be created in the following availability zones: {zones}.")

InterfaceInUse = _error("InvalidNetworkInterface.InUse",
                        "The network interface '{id}' is currently in use.")
InterfaceHasAddress = _error("InvalidNetworkInterface.InUse",
                             "The network interface '{id}' has an associated address.")
GroupsPerInterfaceLimitExceeded = _error(
    "SecurityGroupsPerInterfaceLimitExceeded",
    "The maximum number of security groups per interface has been reached.")
OperationNotPermitted = _error("OperationNotPermitted",
                               "You do not have permission to access the specified resource.")
AuthFailure = _error("AuthFailure", "You do not have permission to access the specified resource.")
AttachmentMalformed = _error("InvalidAttachmentID.Malformed",
                             "The attachment ID '{id}' is malformed")
AssociationMalformed = _error("InvalidAssociationID.Malformed",
                              "The association ID '{id}' is malformed")
AddressNotAvailable = _error("InvalidAddress.NotFound", "Address {ip} is not available.")
PoolNotFound = _error("InvalidPublicIpv4PoolID.NotFound", "The pool ID '{id}' does not exist")
NoInternetGateway = _error("Gateway.NotAttached",
                           "Network {vpc} is not attached to any internet gateway")
AllocationAlreadyAssociated = _error(
    "Resource.AlreadyAssociated",
    "resource {id} is already associated with associate-id {association}")
AddressAlreadyAssociated = _error("Resource.AlreadyAssociated",
                                  "Elastic IP address [{id}] is already associated")
VpcHasGateway = _error("Resource.AlreadyAssociated",
                       "Network {vpc} already has an internet gateway attached")
AssociationConflict = _error("Resource.AlreadyAssociated",
                             "the specified association for route table {table} conflicts "
                             "with an existing association")
PrefixListRouteExists = _error("RouteAlreadyExists",
                               "route table {table} already has a route with "
                               "destination-prefix-list-id {prefix_list}")
SubnetHasIpv6 = _error("InvalidSubnet.Conflict", "The subnet {id} already has an IPv6 CIDR block.")
NoDefaultVpcForGroup = _error("VPCIdNotSpecified", "No default VPC for this user")
PeeringNotFound = _error("InvalidVpcPeeringConnectionID.NotFound",
                         "The vpcPeeringConnection ID '{id}' does not exist")
TransitGatewayNotFound = _error("InvalidTransitGatewayID.NotFound",
                                "Transit Gateway {id} was deleted or does not exist.")
LocalGatewayNotFound = _error("InvalidLocalGatewayID.NotFound",
                              "The localGateway ID '{id}' does not exist")
CarrierGatewayNotFound = _error("InvalidCarrierGatewayID.NotFound",
                                "The carrierGateway ID '{id}' does not exist")
CoreNetworkNotFound = _error("InvalidParameterValue", "Core network {id} does not exist")

# -- the compute half's resources (none exist yet) ------------------------------------
ImageNotFound = _error("InvalidAMIID.NotFound", "The image id '[{id}]' does not exist")
VolumeNotFound = _error("InvalidVolume.NotFound", "The volume '{id}' does not exist.")
SnapshotNotFound = _error("InvalidSnapshot.NotFound", "The snapshot '{id}' does not exist.")
LaunchTemplateNotFound = _error("InvalidLaunchTemplateId.NotFound",
                                "The specified launch template, with template ID {id}, does "
                                "not exist.")
COMPUTE_NOT_FOUND: dict[str, type[Ec2Error]] = {
    "i": InvalidInstanceNotFound, "ami": ImageNotFound, "vol": VolumeNotFound,
    "snap": SnapshotNotFound, "lt": LaunchTemplateNotFound}

# -- per kind --------------------------------------------------------------------------
NOT_FOUND: dict[str, type[Ec2Error]] = {
    "vpc": VpcNotFound,
    "subnet": SubnetNotFound,
    "security-group": GroupNotFound,
    "security-group-rule": RuleNotFound,
    "route-table": RouteTableNotFound,
    "network-acl": NetworkAclNotFound,
    "internet-gateway": InternetGatewayNotFound,
    "egress-only-internet-gateway": EgressOnlyNotFound,
    "natgateway": NatGatewayNotFound,
    "elastic-ip": AllocationNotFound,
    "network-interface": InterfaceNotFound,
    "vpc-endpoint": EndpointNotFound,
    "dhcp-options": DhcpOptionsNotFound,
    "vpc-flow-log": FlowLogNotFound,
}

MALFORMED_CODES = {
    "vpc": ("InvalidVpcID.Malformed", "vpc ID"),
    "subnet": ("InvalidSubnetID.Malformed", "subnet ID"),
    "security-group": ("InvalidGroupId.Malformed", ""),
    "security-group-rule": ("InvalidSecurityGroupRuleId.Malformed", "security group rule ID"),
    "route-table": ("InvalidRouteTableId.Malformed", "routeTable ID"),
    "network-acl": ("InvalidNetworkAclId.Malformed", "networkAcl ID"),
    "internet-gateway": ("InvalidInternetGatewayId.Malformed", "internetGateway ID"),
    "egress-only-internet-gateway": ("InvalidEgressOnlyInternetGatewayId.Malformed",
                                     "egressOnlyInternetGateway ID"),
    "natgateway": ("NatGatewayMalformed", "natGateway ID"),
    "elastic-ip": ("InvalidAllocationID.Malformed", "allocation ID"),
    "network-interface": ("InvalidNetworkInterfaceId.Malformed", "networkInterface ID"),
    "vpc-endpoint": ("InvalidVpcEndpointId.Malformed", "Vpc Endpoint Id"),
    "dhcp-options": ("InvalidDhcpOptionsId.Malformed", "dhcpOptions ID"),
    "vpc-flow-log": ("InvalidFlowLogId.Malformed", "flow log ID"),
}


def not_found(kind: str, id: str) -> Ec2Error:
    return NOT_FOUND[kind](id=id)


def malformed(kind: str, value: str, prefix: str = "") -> Ec2Error:
    code, noun = MALFORMED_CODES.get(kind, ("InvalidID", ""))
    if not noun:  # security groups: AWS's older wording
        return Ec2Error(f'Invalid id: "{value}" (expecting "{prefix}-...")', code=code)
    return Ec2Error(f"The {noun} '{value}' is malformed", code=code)


def invalid_value(message: str) -> Ec2Error:
    return InvalidParameterValue(message=message)


def bad_value(value, parameter: str, reason: str = "") -> Ec2Error:
    text = f"Value ({value}) for parameter {parameter} is invalid."
    return InvalidParameterValue(message=f"{text} {reason}".strip())
