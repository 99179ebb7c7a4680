"""A gateway process for the scale test: create tickets, then run the background worker.

Usage: python gateway_proc.py PREFIX COUNT STOPFILE   (config from LINKAGE_CONFIG, Redis from REDIS_URL)
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from gateway.archive import Archive
from gateway.config import load_config
from gateway.redisconn import connect
from gateway.tickets import TicketService
from gateway.tickets.worker import GatewayWorker


def main() -> None:
    prefix, count, stopfile = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
    config = load_config()
    archive = Archive(config.archive_path)
    svc = TicketService(
        connect(config), config, archive=archive, spool_dir=config.data_dir / f"spool-{prefix}"
    )
    worker = GatewayWorker(svc, archive, f"gw-{prefix}-{os.getpid()}", claim_every_s=1, trim_every_s=2)
    draft = {
        "incident_id": "I-scale",
        "source": "12345_direct",
        "caller": "13800000000",
        "agency": "water",
        "request_type": "help",
        "summary": "停水",
    }
    for start in range(0, count, 100):
        svc.create_many(
            [{**draft, "ticket_id": f"{prefix}-{i:05d}"} for i in range(start, min(start + 100, count))]
        )
        worker.run_once()
    print(f"created {count}", flush=True)
    while not stopfile.exists():
        done = worker.run_once()
        if not (done["feedback"] or done["archived"]):
            time.sleep(0.05)
    print("stopped", flush=True)


if __name__ == "__main__":
    main()
