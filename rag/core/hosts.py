"""Which listening addresses only this machine can reach (the UI and ``rag serve`` are open only there)."""

from __future__ import annotations

import ipaddress


def is_loopback(host: str) -> bool:
    """Return True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
