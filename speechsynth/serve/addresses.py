"""Where a client finds the server, and how long it waits: the standard library only, so that
the CLI can show these defaults without importing the client."""

from __future__ import annotations

PROTOCOLS = ("http", "grpc")
DEFAULT_PORTS = {"http": 8000, "grpc": 8001}  # Triton's (and `speechsynth serve`'s)
DEFAULT_TIMEOUT_S = 600.0  # longest wait for an answer (tritonclient's HTTP default: 60 s)


def client_protocol(protocol: str, stream: bool) -> str:
    """The protocol a client uses: streaming (the decoupled `tts_stream`) is gRPC only."""
    return "grpc" if stream else protocol


def server_url(url: str | None, protocol: str) -> str:
    """`url`, or the local server's port for `protocol` when none is given."""
    return url or f"127.0.0.1:{DEFAULT_PORTS[protocol]}"
