"""Names and kombu entities of the exchanges and queues the bus uses (one place, so both ends agree).

Layout (``<name>`` is ``Bus(name=...)``, default ``stratus``):

* RPC: direct exchange ``<name>.rpc``; durable queue ``<name>.rpc.<topic>`` (shared by every server of the
  topic, each message to one of them) and ``<name>.rpc.<topic>.<server>`` (one server), bound with routing
  keys ``<topic>`` and ``<topic>.<server>``. Casts are persistent, so a cast waiting in its queue survives a
  broker restart; calls are transient (their caller times out anyway).
* Fanout: fanout exchange ``<name>.<topic>.fanout``; one exclusive auto-delete queue per server.
* Replies: one exclusive auto-delete queue ``<name>.reply.<uuid>`` per Bus, on the default exchange.
* Notifications: topic exchange ``<name>.notifications``, routing key = event type; subscribers bind a pattern.

Every exchange type used here also works on kombu's ``memory://`` transport (its channel sets
``supports_fanout``), except that ``memory://`` ignores queue arguments and message TTLs and never auto-deletes;
the bus compensates by checking expiry itself and deleting its private queues on stop.
"""

from __future__ import annotations

import uuid

from kombu import Exchange, Queue

# RabbitMQ drops an unused queue after this long (x-expires), so RPC queues of hosts that went away, and
# queues of test topics, do not pile up on the broker. Ignored by memory://.
RPC_QUEUE_EXPIRES_MS = 30 * 60 * 1000

# Calls are not worth a disk write (the caller times out anyway); casts and events are (a lost build leaves a
# server in BUILD for good).
TRANSIENT, PERSISTENT = 1, 2


def rpc_exchange(name: str) -> Exchange:
    return Exchange(f"{name}.rpc", type="direct", durable=True)


def fanout_exchange(name: str, topic: str) -> Exchange:
    return Exchange(f"{name}.{topic}.fanout", type="fanout", durable=False)


def notify_exchange(name: str) -> Exchange:
    return Exchange(f"{name}.notifications", type="topic", durable=True)


def rpc_routing_key(topic: str, server: str | None) -> str:
    return f"{topic}.{server}" if server else topic


def rpc_queue(name: str, topic: str, server: str | None = None) -> Queue:
    key = rpc_routing_key(topic, server)
    return Queue(
        f"{name}.rpc.{key}",
        rpc_exchange(name),
        routing_key=key,
        durable=True,
        auto_delete=False,
        queue_arguments={"x-expires": RPC_QUEUE_EXPIRES_MS},
    )


def fanout_queue(name: str, topic: str, server: str | None) -> Queue:
    suffix = f"{server}.{uuid.uuid4().hex[:12]}" if server else uuid.uuid4().hex[:12]
    return Queue(f"{topic}.fanout.{suffix}", fanout_exchange(name, topic), exclusive=True, auto_delete=True)


def reply_queue(name: str) -> Queue:
    return Queue(f"{name}.reply.{uuid.uuid4().hex}", exclusive=True, auto_delete=True)


def notify_queue(name: str, pattern: str, group: str | None) -> Queue:
    if group:
        return Queue(f"{name}.notify.{group}", notify_exchange(name), routing_key=pattern, durable=True)
    return Queue(
        f"{name}.notify.{uuid.uuid4().hex}",
        notify_exchange(name),
        routing_key=pattern,
        exclusive=True,
        auto_delete=True,
    )
