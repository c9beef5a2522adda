"""An SMTP sink for the email tests: aiosmtpd on 127.0.0.1:PORT writing
each message it takes to DIR/N.eml (the envelope in DIR/N.env).

    python3 sink.py PORT DIR
"""
import asyncio
import itertools
import pathlib
import sys

from aiosmtpd.controller import Controller


class Writer:
    def __init__(self, out):
        self.out = out
        self.count = itertools.count(1)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        # Recipients that make the relay refuse, for the tests of retries.
        if address.startswith("busy@"):
            return "451 4.3.0 mailbox busy, try later"
        if address.startswith("gone@"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 ok"

    async def handle_DATA(self, server, session, envelope):
        n = next(self.count)
        (self.out / f"{n}.env").write_text(envelope.mail_from + "\n" + "\n".join(envelope.rcpt_tos) + "\n")
        # Written under another name first: the test reads only whole files.
        tmp = self.out / f"{n}.tmp"
        tmp.write_bytes(envelope.original_content)
        tmp.rename(self.out / f"{n}.eml")
        return "250 2.0.0 stored"


async def main():
    port, out = int(sys.argv[1]), pathlib.Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    controller = Controller(Writer(out), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    await asyncio.Event().wait()


asyncio.run(main())
