"""The load balancer in front of several gateways: a configuration for Debian's HAProxy.

Usage:
    python -m bot.balancer --listen 127.0.0.1:8000 --gateway 127.0.0.1:8001 --gateway 127.0.0.1:8002 > h.cfg
    haproxy -db -f h.cfg                      (make run-scaled does both; docs/deploy.md)

Every gateway can serve every request (they share their state through Redis: bot/shared.py), so requests
are spread round-robin; a web socket stays with the gateway that accepted it for its life. A gateway is
taken out when /livez stops answering (the process, not Rasa: a gateway whose Rasa is down still answers
crisis messages and keeps citizens' messages) and a request that could not connect is sent to another one.
X-Forwarded-For carries the citizen's address (the gateway's per-address limits read it) and
X-Served-By says which gateway answered.
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["config", "main"]


def config(listen: str, gateways: list[str], *, check_every: str = "1s") -> str:
    """Return HAProxy's configuration: LISTEN (host:port) in front of GATEWAYS (host:port each)."""
    servers = "\n".join(
        f"    server gateway{i} {address} check inter {check_every} fall 2 rise 1"
        for i, address in enumerate(gateways, start=1)
    )
    return f"""global
    maxconn 4096

defaults
    mode http
    option forwardfor
    option redispatch
    retries 3
    retry-on conn-failure empty-response
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    # Web sockets (the web chat, the agent console) stay open between messages.
    timeout tunnel 1h

frontend minwon
    bind {listen}
    default_backend gateways

backend gateways
    balance roundrobin
    option httpchk GET /livez
    http-check expect status 200
    http-response set-header X-Served-By %s
{servers}
"""


def main(argv: list[str] | None = None) -> int:
    """Print the configuration for the addresses given."""
    parser = argparse.ArgumentParser(prog="python -m bot.balancer", description=__doc__.splitlines()[0])
    parser.add_argument("--listen", default="127.0.0.1:8000", help="where the balancer listens (host:port)")
    parser.add_argument("--gateway", action="append", required=True, help="a gateway's host:port (repeat)")
    args = parser.parse_args(argv)
    sys.stdout.write(config(args.listen, args.gateway))
    return 0


if __name__ == "__main__":
    sys.exit(main())
