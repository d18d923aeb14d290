"""The metadata API guests reach at 169.254.169.254 through the per-network proxies (Nova's metadata API).

``create_metadata_app(db, secret)`` serves it; requests are authenticated by the proxy's signed headers.
"""

from stratus.compute.metadata.app import create_metadata_app
from stratus.compute.metadata.signing import sign

__all__ = ["create_metadata_app", "sign"]
