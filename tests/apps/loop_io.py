"""The worker loop's I/O methods, each exercised for real on loopback inside a handler
(python/fastcore/_loop.py, src/fdwatch.rs). Used by test_loop_io.py."""
import asyncio
import os
import socket

import fastcore

app = fastcore.FastCore()


@app.get("/resolve")
async def resolve():
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo("localhost", 80, type=socket.SOCK_STREAM)
    name = await loop.getnameinfo(("127.0.0.1", 80), socket.NI_NUMERICHOST | socket.NI_NUMERICSERV)
    return {"families": sorted({i[0].name for i in infos}), "name": list(name)}


@app.get("/sock")
async def sock_methods():
    loop = asyncio.get_running_loop()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.setblocking(False)
    client = socket.socket()
    client.setblocking(False)
    try:
        accepting = asyncio.ensure_future(loop.sock_accept(listener))
        await loop.sock_connect(client, listener.getsockname())
        server_side, _ = await accepting
        server_side.setblocking(False)
        await loop.sock_sendall(client, b"ping" * 100_000)  # more than a socket buffer
        got = bytearray()
        buf = bytearray(65536)
        while len(got) < 400_000:
            n = await loop.sock_recv_into(server_side, buf)
            got += buf[:n]
        await loop.sock_sendall(server_side, b"pong")
        reply = await loop.sock_recv(client, 16)
        server_side.close()
        return {"received": len(got), "intact": bytes(got) == b"ping" * 100_000, "reply": reply.decode()}
    finally:
        client.close()
        listener.close()


@app.get("/streams")
async def streams():
    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while line := await reader.readline():
            writer.write(line.upper())
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    lines = []
    for word in ("alpha", "beta"):
        writer.write(word.encode() + b"\n")
        await writer.drain()
        lines.append((await reader.readline()).decode().strip())
    writer.close()
    await writer.wait_closed()
    server.close()
    await server.wait_closed()
    return {"lines": lines}


class _Sink(asyncio.Protocol):
    def __init__(self) -> None:
        self.received = 0
        self.transport = None

    def connection_made(self, transport) -> None:
        self.transport = transport
        transport.pause_reading()  # let the sender's buffer fill up

    def data_received(self, data: bytes) -> None:
        self.received += len(data)


class _Source(asyncio.Protocol):
    def __init__(self) -> None:
        self.events: list[str] = []
        self.resumed = asyncio.get_running_loop().create_future()

    def pause_writing(self) -> None:
        self.events.append("pause")

    def resume_writing(self) -> None:
        self.events.append("resume")
        if not self.resumed.done():
            self.resumed.set_result(None)


@app.get("/flow-control")
async def flow_control():
    loop = asyncio.get_running_loop()
    sinks: list[_Sink] = []
    server = await loop.create_server(lambda: sinks.append(_Sink()) or sinks[-1], "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    transport, source = await loop.create_connection(_Source, "127.0.0.1", port)
    total = 0
    while "pause" not in source.events:
        transport.write(b"x" * 65536)
        total += 65536
        await asyncio.sleep(0)
    buffered = transport.get_write_buffer_size()
    sinks[0].transport.resume_reading()
    await asyncio.wait_for(source.resumed, 5)
    while sinks[0].received < total:
        await asyncio.sleep(0.001)
    transport.close()
    server.close()
    await server.wait_closed()
    return {"events": source.events, "buffered_when_paused": buffered > 0, "all_received": sinks[0].received == total}


@app.get("/datagram")
async def datagram():
    loop = asyncio.get_running_loop()
    got = loop.create_future()

    class Echo(asyncio.DatagramProtocol):
        def connection_made(self, transport) -> None:
            self.transport = transport

        def datagram_received(self, data: bytes, addr) -> None:
            self.transport.sendto(data[::-1], addr)

    class Asker(asyncio.DatagramProtocol):
        def datagram_received(self, data: bytes, addr) -> None:
            got.set_result(data)

    server, _ = await loop.create_datagram_endpoint(Echo, local_addr=("127.0.0.1", 0))
    client, _ = await loop.create_datagram_endpoint(Asker, remote_addr=server.get_extra_info("sockname"))
    client.sendto(b"stressed")
    reply = await asyncio.wait_for(got, 5)
    client.close()
    server.close()
    return {"reply": reply.decode()}


@app.get("/fd-callbacks")
async def fd_callbacks():
    loop = asyncio.get_running_loop()
    a, b = socket.socketpair()
    a.setblocking(False)
    b.setblocking(False)
    readable, writable = loop.create_future(), loop.create_future()
    calls = {"read": 0}

    def on_read() -> None:
        calls["read"] += 1
        if calls["read"] == 3:  # level-triggered: called again while data is left unread
            loop.remove_reader(a.fileno())
            readable.set_result(a.recv(100))

    loop.add_reader(a.fileno(), on_read)
    loop.add_writer(b.fileno(), lambda: (loop.remove_writer(b.fileno()), writable.set_result(True)))
    await writable
    b.send(b"data")
    data = await asyncio.wait_for(readable, 5)
    removed_twice = loop.remove_reader(a.fileno())
    a.close()
    b.close()
    return {"data": data.decode(), "read_calls": calls["read"], "removed_twice": removed_twice}


@app.get("/pipe")
async def pipe():
    loop = asyncio.get_running_loop()
    rfd, wfd = os.pipe()
    reader = asyncio.StreamReader()
    transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(rfd, "rb"))
    os.write(wfd, b"through a pipe\n")
    os.close(wfd)
    line = await asyncio.wait_for(reader.readline(), 5)
    transport.close()
    await loop.shutdown_default_executor()
    return {"line": line.decode()}
