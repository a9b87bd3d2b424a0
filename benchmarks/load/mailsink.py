"""The load run's SMTP server (aiosmtpd): every message it accepts becomes one
JSON line of the inbox, with the outbox row it came from
(``X-Governance-Notification``), so a run can count deliveries exactly.

    python benchmarks/load/mailsink.py PORT INBOX CONTROL

CONTROL is a file the fault scenarios write: ``slow N`` makes the server take N
seconds before it answers each message's data; empty or absent, it answers at
once. Stopping the process is the scenario "SMTP server down".
"""
from __future__ import annotations

import asyncio
import email
import email.policy
import json
import pathlib
import sys
import time

from aiosmtpd.controller import Controller


class Inbox:
    def __init__(self, inbox: pathlib.Path, control: pathlib.Path) -> None:
        self.inbox = inbox
        self.control = control

    def delay(self) -> float:
        try:
            words = self.control.read_text().split()
        except OSError:
            return 0.0
        return float(words[1]) if len(words) == 2 and words[0] == "slow" else 0.0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        delay = self.delay()
        if delay:
            await asyncio.sleep(delay)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        line = {"t": time.time(), "to": envelope.rcpt_tos, "subject": str(message["Subject"]),
                "notification": message["X-Governance-Notification"], "delay": delay}
        with self.inbox.open("a") as out:
            out.write(json.dumps(line) + "\n")
        return "250 Message accepted for delivery"


def main(port: int, inbox: pathlib.Path, control: pathlib.Path) -> None:
    controller = Controller(Inbox(inbox, control), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]), pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3]))
