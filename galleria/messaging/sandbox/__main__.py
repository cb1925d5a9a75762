"""`python -m galleria.messaging.sandbox serve|keys` — see the package docstring."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path
from types import FrameType


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m galleria.messaging.sandbox")
    sub = parser.add_subparsers(dest="command", required=True)
    keys_cmd = sub.add_parser("keys", help="generate the sandbox's credentials and templates into a JSON file")
    keys_cmd.add_argument("--out", type=Path, required=True)
    keys_cmd.add_argument("--force", action="store_true", help="overwrite an existing file")
    serve = sub.add_parser("serve", help="run the SMS sandbox")
    serve.add_argument("--keys", type=Path, required=True)
    serve.add_argument("--port", type=int, default=8766, help="0 picks a free port")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--receipt-url-aliyun", default="", help="where Aliyun SmsReport receipts are pushed")
    serve.add_argument("--receipt-url-tencent", default="", help="where Tencent status callbacks are pushed")
    serve.add_argument("--wechat-event-url-mini", default="", help="the mini-program's server URL (events)")
    serve.add_argument("--wechat-event-url-mp", default="", help="the official account's server URL (events)")
    serve.add_argument("--report-delay", type=float, default=1.0, help="seconds from acceptance to the receipt")
    serve.add_argument("--retry-gap", type=float, default=1.0, help="first gap between receipt pushes (doubles)")
    serve.add_argument("--per-phone-per-minute", type=int, default=5, help="flow control per number; 0 = off")
    serve.add_argument("--verbose", "-v", action="store_true")
    args = parser.parse_args(argv)

    if args.command == "keys":
        from .keys import write

        if args.out.exists() and not args.force:
            print(f"SMS SANDBOX KEYS {args.out} (kept)")
            return 0
        write(args.out)
        print(f"SMS SANDBOX KEYS {args.out}")
        return 0

    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s sms-sandbox %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    from .server import build

    server, sandbox = build(
        keys_path=args.keys,
        host=args.host,
        port=args.port,
        receipt_urls={"aliyun": args.receipt_url_aliyun, "tencent": args.receipt_url_tencent},
        report_delay=args.report_delay,
        retry_gap=args.retry_gap,
        per_phone_per_minute=args.per_phone_per_minute,
        wechat_event_urls={"mini": args.wechat_event_url_mini, "mp": args.wechat_event_url_mp},
    )
    sandbox.receipts.start()

    def stop(signum: int, frame: FrameType | None) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"SMS SANDBOX LISTENING {sandbox.base_url}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        sandbox.receipts.stop()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
