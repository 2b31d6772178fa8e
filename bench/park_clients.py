"""Holds N requests open against a server's /park route, for the memory-per-request run.

    python bench/park_clients.py --port P --n 10000

Opens N connections (in batches, so the server's accept backlog never overflows), sends
`GET /park` on each, prints `sent N` and then waits for every response. The harness meanwhile
polls /parked until the server holds N suspended requests, reads its memory, and calls
/release; the responses then arrive and this script prints a JSON summary and exits:
{"sent": N, "ok": n_200, "failed": n_other}. Bounded: gives up after --timeout seconds.
"""
import argparse
import asyncio
import json
import sys

REQUEST = b"GET /park HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


async def one(port: int, opened: list) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(REQUEST)
    await writer.drain()
    opened.append(writer)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    await reader.readexactly(length)
    writer.close()
    return status


async def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--batch", type=int, default=250)
    ap.add_argument("--timeout", type=float, default=180)
    args = ap.parse_args()

    opened: list = []
    tasks = []
    for start in range(0, args.n, args.batch):
        batch = [asyncio.create_task(one(args.port, opened)) for _ in range(min(args.batch, args.n - start))]
        tasks += batch
        # Wait until this batch has connected and sent before starting the next one.
        while len(opened) < len(tasks) and not any(t.done() for t in batch):
            await asyncio.sleep(0.005)
    print(f"sent {len(opened)}", flush=True)
    done, pending = await asyncio.wait(tasks, timeout=args.timeout)
    for t in pending:
        t.cancel()
    ok = sum(1 for t in done if not t.exception() and t.result() == 200)
    print(json.dumps({"sent": len(opened), "ok": ok, "failed": args.n - ok}), flush=True)
    return 0 if ok == args.n else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
