"""The peer of the email benchmark: aiosmtpd taking mail on 127.0.0.1:PORT
and answering 250 only once the message is durable in DIR, as Switchboard's
listener answers only after its commit.

Each message is written to its own file, fsynced, and renamed into place,
the directory fsynced after (so a crash after the 250 loses nothing). The
disk work runs on the event loop's thread pool, so several messages are
written at once instead of the loop waiting on each fsync in turn.

    python3 bench/aiosmtpd_store.py PORT DIR
"""
import asyncio
import itertools
import os
import pathlib
import sys

from aiosmtpd.controller import Controller


def store(directory: pathlib.Path, n: int, content: bytes) -> None:
    tmp = directory / f"{n}.tmp"
    with open(tmp, "wb") as f:
        f.write(content)
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, directory / f"{n}.eml")
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Store:
    def __init__(self, directory: pathlib.Path):
        self.directory = directory
        self.count = itertools.count(1)

    async def handle_DATA(self, server, session, envelope):
        n = next(self.count)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, store, self.directory, n, envelope.original_content)
        return "250 2.0.0 stored"


async def main() -> None:
    port, directory = int(sys.argv[1]), pathlib.Path(sys.argv[2])
    directory.mkdir(parents=True, exist_ok=True)
    controller = Controller(Store(directory), hostname="127.0.0.1", port=port, data_size_limit=25 * 1024 * 1024)
    controller.start()
    print(f"listening on 127.0.0.1:{port}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        controller.stop()


if __name__ == "__main__":
    asyncio.run(main())
