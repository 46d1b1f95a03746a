"""The buyers' HTTP: a lean keep-alive HTTP/1.1 client on asyncio protocols, or aiohttp.

The load generator shares the two cores with the server, so every millisecond it spends per
request is taken from the server it measures. aiohttp costs about 0.9 ms of CPU per request
here; this client sends pre-built header bytes and reads a response by its Content-Length
(chunked too), a few tens of microseconds. `--client aiohttp` keeps the other for comparison.
Only loopback servers, only what gunicorn answers: HTTP/1.1, Content-Length or chunked.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def loopback_only(base_url: str) -> tuple[str, int]:
    parts = urlsplit(base_url)
    if parts.hostname not in LOOPBACK:
        raise ValueError(f"the bench only loads this machine, not {parts.hostname}")
    return parts.hostname, parts.port or 80


class _Response(asyncio.Protocol):
    """One connection: bytes in, at most one response awaited at a time."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.waiter: asyncio.Future | None = None
        self.transport: asyncio.Transport | None = None
        self.lost = False

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.waiter is not None and not self.waiter.done():
            parsed = _parse(self.buffer)
            if parsed is not None:
                self.waiter.set_result(parsed)

    def connection_lost(self, exc) -> None:
        self.lost = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionResetError("the server closed the connection"))


def _parse(buffer: bytearray) -> tuple[int, bytes, bool, str] | None:
    """(status, body, keep alive, ETag) once a whole response is in `buffer` (and take it out)."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        return None
    raw_head = bytes(buffer[:end])
    head = raw_head.lower()
    status = int(head[9:12])
    keep = b"\r\nconnection: close" not in head
    etag = ""
    at = head.find(b"\r\netag:")
    if at >= 0:
        stop = head.find(b"\r\n", at + 2)
        etag = raw_head[at + 7 : stop if stop > 0 else len(head)].strip().decode()
    start = end + 4
    at = head.find(b"\r\ncontent-length:")
    if at >= 0:
        stop = head.find(b"\r\n", at + 2)
        length = int(head[at + 17 : stop if stop > 0 else len(head)])
        if len(buffer) < start + length:
            return None
        body = bytes(buffer[start : start + length])
        del buffer[: start + length]
        return status, body, keep, etag
    if b"\r\ntransfer-encoding: chunked" in head:
        body, at = bytearray(), start
        while True:
            line_end = buffer.find(b"\r\n", at)
            if line_end < 0:
                return None
            size = int(bytes(buffer[at:line_end]).split(b";")[0], 16)
            if len(buffer) < line_end + 2 + size + 2:
                return None
            body += buffer[line_end + 2 : line_end + 2 + size]
            at = line_end + 2 + size + 2
            if size == 0:
                del buffer[:at]
                return status, bytes(body), keep, etag
    if status in (204, 304) or 100 <= status < 200:
        del buffer[:start]
        return status, b"", keep, etag
    raise ConnectionError("a response without Content-Length: unsupported by the bench")


class LeanTransport:
    """A pool of keep-alive connections to one loopback server."""

    def __init__(self, base_url: str, headers: dict[str, str], timeout: float) -> None:
        self.host, self.port = loopback_only(base_url)
        self.fixed = "".join(f"{k}: {v}\r\n" for k, v in {"Host": self.host, **headers}.items())
        self.timeout = timeout
        self.idle: list[_Response] = []

    async def _connect(self) -> _Response:
        loop = asyncio.get_running_loop()
        _transport, protocol = await loop.create_connection(_Response, self.host, self.port)
        return protocol

    async def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict | None = None
    ) -> tuple[int, bytes, str]:
        """(status, body, ETag or "")."""
        conn = self.idle.pop() if self.idle else await self._connect()
        extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        if body is not None:
            extra += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        head = f"{method} {path} HTTP/1.1\r\n{self.fixed}{extra}\r\n".encode()
        conn.waiter = asyncio.get_running_loop().create_future()
        try:
            conn.transport.write(head + body if body else head)
            async with asyncio.timeout(self.timeout):
                status, data, keep, etag = await conn.waiter
        except BaseException:
            conn.transport.abort()
            raise
        if keep and not conn.lost:
            self.idle.append(conn)
        else:
            conn.transport.close()
        return status, data, etag

    async def close(self) -> None:
        for conn in self.idle:
            conn.transport.close()
        self.idle.clear()
        await asyncio.sleep(0)


class AiohttpTransport:
    """The same interface over an aiohttp session (what the bench used first)."""

    def __init__(self, base_url: str, headers: dict[str, str], timeout: float, connections: int):
        import aiohttp

        loopback_only(base_url)
        self.base = base_url
        self.errors = (aiohttp.ClientError,)
        connector = aiohttp.TCPConnector(
            limit=connections,
            limit_per_host=connections,
            keepalive_timeout=1.0,
            ttl_dns_cache=None,
        )
        self.session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=timeout),
            headers=headers,
            skip_auto_headers=("User-Agent",),
        )

    async def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict | None = None
    ) -> tuple[int, bytes, str]:
        sent = dict(headers or {})
        if body is not None:
            sent["Content-Type"] = "application/json"
        async with self.session.request(
            method, self.base + path, data=body, headers=sent or None
        ) as resp:
            return resp.status, await resp.read(), resp.headers.get("ETag", "")

    async def close(self) -> None:
        await self.session.close()


CLIENTS = ("lean", "aiohttp")


def transport(kind: str, base_url: str, api_key: str, timeout: float, connections: int):
    headers = {"Authorization": f"Bearer {api_key}", "Accept": "application/json"}
    if kind == "aiohttp":
        return AiohttpTransport(base_url, headers, timeout, connections)
    return LeanTransport(base_url, headers, timeout)
