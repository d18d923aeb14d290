"""Message bus on kombu: RPC call/cast, per-host topics, fanout and notifications.

``Bus("memory://")`` (the default) works inside one process, ``Bus("amqp://...")`` across hosts through
RabbitMQ; the code using it is the same. See ``bus.py`` for the API and ``topology.py`` for the wire layout.
"""

from stratus.core.bus.bus import Bus
from stratus.core.bus.errors import BusUnavailable, MessagingTimeout, RemoteError
from stratus.core.bus.notify import Subscription
from stratus.core.bus.server import RpcServer

__all__ = ["Bus", "BusUnavailable", "MessagingTimeout", "RemoteError", "RpcServer", "Subscription"]
