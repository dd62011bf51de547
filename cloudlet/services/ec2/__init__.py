"""EC2: the VPC half (networks, gateways, security groups, interfaces) in `network/`."""
