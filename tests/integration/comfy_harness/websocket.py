"""A minimal blocking WebSocket client (RFC 6455) for reading ComfyUI's ``/ws`` messages.

Standard library only, so the harness imports in any Python. It covers what a loopback connection to
ComfyUI needs: the opening handshake, unmasked server frames (text, binary, continuation, ping, close)
and masked client control frames. Frames are parsed from an internal buffer, so a receive timeout never
leaves a frame half read.
"""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import struct
import time

_ACCEPT_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_CONTINUATION, _TEXT, _BINARY, _CLOSE, _PING, _PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


class WebSocket:
    """A client connection to ``ws://host:port/path``; use as a context manager."""

    def __init__(self, host: str, port: int, path: str, timeout_s: float = 10.0) -> None:
        self._socket = socket.create_connection((host, port), timeout=timeout_s)
        self._buffer = bytearray()
        try:
            self._handshake(host, port, path, time.monotonic() + timeout_s)
        except BaseException:
            self._socket.close()
            raise

    def __enter__(self) -> WebSocket:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def receive(self, timeout_s: float) -> str | bytes | None:
        """The next text (``str``) or binary (``bytes``) message, or ``None`` after ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        parts: list[bytes] = []
        message_opcode = None
        while True:
            frame = self._next_frame(deadline)
            if frame is None:
                if parts:  # keep a half-received fragmented message for the next call
                    raise TimeoutError("WebSocket message fragments stopped arriving")
                return None
            final, opcode, payload = frame
            if opcode == _PING:
                self._send(_PONG, payload)
            elif opcode == _CLOSE:
                raise ConnectionError("the server closed the WebSocket")
            elif opcode in (_TEXT, _BINARY, _CONTINUATION):
                message_opcode = opcode if opcode != _CONTINUATION else message_opcode
                parts.append(payload)
                if final:
                    data = b"".join(parts)
                    return data.decode() if message_opcode == _TEXT else data

    def close(self) -> None:
        try:
            self._send(_CLOSE, struct.pack("!H", 1000))
        except OSError:
            pass
        self._socket.close()

    def _handshake(self, host: str, port: int, path: str, deadline: float) -> None:
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        self._socket.sendall(request.encode())
        while b"\r\n\r\n" not in self._buffer:
            if not self._fill(deadline):
                raise TimeoutError("no WebSocket handshake answer")
        head, _, rest = bytes(self._buffer).partition(b"\r\n\r\n")
        self._buffer = bytearray(rest)
        lines = head.decode("latin-1").split("\r\n")
        if " 101 " not in f"{lines[0]} ":
            raise ConnectionError(f"WebSocket upgrade refused: {lines[0]}")
        headers = dict(line.split(":", 1) for line in lines[1:] if ":" in line)
        headers = {name.strip().lower(): value.strip() for name, value in headers.items()}
        expected = base64.b64encode(hashlib.sha1((key + _ACCEPT_GUID).encode()).digest()).decode()
        if headers.get("sec-websocket-accept") != expected:
            raise ConnectionError("WebSocket handshake answer has a wrong Sec-WebSocket-Accept")

    def _next_frame(self, deadline: float) -> tuple[bool, int, bytes] | None:
        while True:
            frame = self._parse_frame()
            if frame is not None:
                return frame
            if not self._fill(deadline):
                return None

    def _parse_frame(self) -> tuple[bool, int, bytes] | None:
        """Take one whole frame off the buffer, or ``None`` while it is incomplete."""
        buffer = self._buffer
        if len(buffer) < 2:
            return None
        final, opcode = bool(buffer[0] & 0x80), buffer[0] & 0x0F
        masked, length = bool(buffer[1] & 0x80), buffer[1] & 0x7F
        offset = 2
        if length >= 126:
            size = 2 if length == 126 else 8
            if len(buffer) < offset + size:
                return None
            (length,) = struct.unpack("!H" if size == 2 else "!Q", buffer[offset : offset + size])
            offset += size
        mask = b""
        if masked:
            mask = bytes(buffer[offset : offset + 4])
            offset += 4
        if len(buffer) < offset + length:
            return None
        payload = bytes(buffer[offset : offset + length])
        if masked:
            payload = bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))
        del buffer[: offset + length]
        return final, opcode, payload

    def _fill(self, deadline: float) -> bool:
        """Read more bytes into the buffer; ``False`` once ``deadline`` has passed."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        self._socket.settimeout(remaining)
        try:
            chunk = self._socket.recv(65536)
        except TimeoutError:
            return False
        if not chunk:
            raise ConnectionError("the WebSocket connection was closed")
        self._buffer += chunk
        return True

    def _send(self, opcode: int, payload: bytes) -> None:
        """Send one final frame; client frames are masked (RFC 6455 §5.3). Payloads here are < 126 B."""
        mask = os.urandom(4)
        masked = bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))
        self._socket.sendall(bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + masked)
