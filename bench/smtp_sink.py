"""A loopback SMTP sink that counts: one line per accepted message, for bench/channels.py.

    python bench/smtp_sink.py --port 2525 --out accepted.tsv

aiosmtpd's own `Sink` handler discards messages without counting them. This one appends,
for every message it accepts, a tab-separated line (flushed at once) to --out:

    <time.time() when accepted>  <RCPT TO addresses, comma-separated>  <Message-ID>  <bytes>

so the benchmark reads the count, the recipients, duplicates and the time the last message
was accepted from the file. It runs in its own process (its CPU is not the benchmark's), on
127.0.0.1 only, until SIGTERM/SIGINT; it prints "ready" once it accepts connections.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from email.parser import BytesHeaderParser
from pathlib import Path

from aiosmtpd.controller import Controller


class CountingSink:
    def __init__(self, out: Path) -> None:
        # Line-buffered text: each accepted message is on disk before the 250 goes out.
        self.file = out.open("a", buffering=1, encoding="utf-8")
        self.parser = BytesHeaderParser()

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd API
        content = envelope.original_content or envelope.content or b""
        headers = self.parser.parsebytes(content)
        message_id = (headers.get("Message-ID") or "").strip()
        rcpts = ",".join(envelope.rcpt_tos)
        self.file.write(f"{time.time():.6f}\t{rcpts}\t{message_id}\t{len(content)}\n")
        return "250 Message accepted for delivery"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    sink = CountingSink(args.out)
    controller = Controller(sink, hostname="127.0.0.1", port=args.port)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    controller.start()
    print("ready", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        controller.stop()
        sink.file.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
