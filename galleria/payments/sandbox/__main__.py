"""`python -m galleria.payments.sandbox serve|keys` — see the package docstring."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path
from types import FrameType


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m galleria.payments.sandbox")
    sub = parser.add_subparsers(dest="command", required=True)
    keys_cmd = sub.add_parser("keys", help="generate every sandbox key into a JSON file")
    keys_cmd.add_argument("--out", type=Path, required=True)
    keys_cmd.add_argument("--force", action="store_true", help="overwrite an existing file")
    keys_cmd.add_argument("--if-missing", action="store_true", help="keep an existing file (exit 0)")
    serve = sub.add_parser("serve", help="run the sandbox gateway")
    serve.add_argument("--keys", type=Path, required=True)
    serve.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--base-url", default="", help="URL handed out in h5_url / bill URLs (default http://host:port)")
    serve.add_argument("--state", type=Path, default=None, help="JSON file that keeps trades across restarts")
    serve.add_argument("--time-scale", type=float, default=1.0, help="× the real retry gaps; 0 = deliver on demand")
    serve.add_argument("--share-max-bp", type=int, default=3000, help="分账 limit in basis points of the order")
    serve.add_argument("--verbose", "-v", action="store_true")
    args = parser.parse_args(argv)

    if args.command == "keys":
        from .keys import write

        if args.out.exists() and args.if_missing and not args.force:
            print(f"SANDBOX KEYS {args.out} (kept)")
            return 0
        if args.out.exists() and not args.force:
            print(f"{args.out} exists (use --force to replace it)", file=sys.stderr)
            return 1
        write(args.out)
        print(f"SANDBOX KEYS {args.out}")
        return 0

    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s sandbox %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    from .server import build

    if args.time_scale < 0 or not 0 <= args.share_max_bp <= 10000:
        parser.error("--time-scale must be ≥ 0 and --share-max-bp within 0–10000")
    server, sandbox = build(
        keys_path=args.keys,
        state_path=args.state,
        time_scale=args.time_scale,
        share_max_bp=args.share_max_bp,
        host=args.host,
        port=args.port,
        base_url=args.base_url,
    )
    sandbox.dispatcher.start()

    def stop(signum: int, frame: FrameType | None) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"SANDBOX LISTENING {sandbox.base_url}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        sandbox.dispatcher.stop()
        sandbox.store.save()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
