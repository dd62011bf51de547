"""Sockets created inside a network namespace: a socket keeps the namespace it was created
in, so a thread enters the namespace (setns), creates it and goes back."""

from __future__ import annotations

import os
import socket

from cloudlet.engines.sandbox import linux


def socket_in(netns: str, family: int = socket.AF_INET, kind: int = socket.SOCK_STREAM) -> socket.socket:
    """A socket in the network namespace at path netns (e.g. /run/netns/NAME)."""
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        target = os.open(netns, os.O_RDONLY)
        try:
            linux.setns(target, linux.CLONE_NEWNET)
            try:
                return socket.socket(family, kind)
            finally:
                linux.setns(own, linux.CLONE_NEWNET)
        finally:
            os.close(target)
    finally:
        os.close(own)
