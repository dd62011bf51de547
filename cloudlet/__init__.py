"""Cloudlet: the seven core AWS services, running for real on one machine."""

__version__ = "0.1.0"
