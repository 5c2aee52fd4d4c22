"""`python -m bench.peer --database-url ... --nats-url ... --port N`: the peer, served."""

from __future__ import annotations

import argparse
import secrets

import uvicorn

from bench.peer.app import create_app


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.peer")
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--nats-url", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    api = create_app(args.database_url, args.nats_url, secrets.token_bytes(32))
    uvicorn.run(api, host="127.0.0.1", port=args.port, log_level="warning", proxy_headers=False)


if __name__ == "__main__":
    main()
