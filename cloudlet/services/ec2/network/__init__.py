"""The VPC half of EC2, one module per family of operations."""
