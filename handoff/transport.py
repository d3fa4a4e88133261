"""TLS for the console and for clients of the stack's own servers (README, "Transport security")."""

import ssl
from pathlib import Path
from typing import Optional

from handoff.settings import TlsFiles


def server_tls_context(files: TlsFiles) -> ssl.SSLContext:
    """A server context from the configured certificate and key that refuses anything older than TLS 1.2."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(files.certificate), str(files.key))
    return context


def client_tls_context(extra_trust: Optional[Path] = None) -> ssl.SSLContext:
    """A verifying client context (TLS 1.2+) that trusts the system's CAs and, if given, one more certificate,
    such as a self-signed one the stack serves with."""
    context = ssl.create_default_context()
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if extra_trust is not None:
        context.load_verify_locations(cafile=str(extra_trust))
    return context
