"""Where a built message goes: an SMTP server (``PLANNER_SMTP_URL``) or ``.eml`` files.

Errors are sorted into two kinds the delivery loop acts on: :class:`Permanent` (a 5xx reply:
retrying cannot help, the row is marked failed) and :class:`Temporary` (4xx, a refused or
dropped connection, a timeout: the row waits and is tried again with backoff).
"""

from __future__ import annotations

import contextlib
import smtplib
import socket
import ssl
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit


class Temporary(Exception):
    """Worth trying again later."""


class Permanent(Exception):
    """The server refused for good (5xx)."""


class Backend(Protocol):
    def send(self, message: EmailMessage, name: str) -> str:
        """Deliver ``message``; return where it went (a file path, or "")."""
        ...

    def close(self) -> None: ...


class EmlBackend:
    """Without SMTP: one ``<name>.eml`` file per message, written atomically (temp + rename),
    so a reader never sees half a message and a resend overwrites instead of adding a copy."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, message: EmailMessage, name: str) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{name}.eml"
        tmp = path.with_suffix(".eml.tmp")
        tmp.write_bytes(bytes(message))
        tmp.replace(path)
        return str(path)

    def close(self) -> None:
        return None


def _code_error(code: int, text: object) -> Exception:
    detail = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
    error = f"SMTP {code}: {detail}"
    return Permanent(error) if 500 <= code < 600 else Temporary(error)


class SmtpBackend:
    """One connection kept open across a batch (reconnected when the server drops it).

    ``smtp://user:pass@host:587`` upgrades with STARTTLS when the server offers it and refuses
    to send a password over a connection that did not; ``smtps://`` is TLS from the first byte.
    """

    def __init__(self, url: str, ca_file: str | None = None, timeout: float = 30.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise ValueError(f"PLANNER_SMTP_URL must start with smtp:// or smtps://, not {url!r}")
        self.implicit_tls = parts.scheme == "smtps"
        self.host = parts.hostname or "localhost"
        self.port = parts.port or (465 if self.implicit_tls else 587)
        self.user = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.timeout = timeout
        self.context = ssl.create_default_context(cafile=ca_file or None)
        self.conn: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        try:
            if self.implicit_tls:
                conn: smtplib.SMTP = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout, context=self.context
                )
            else:
                conn = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
                conn.ehlo()
                if conn.has_extn("starttls"):
                    conn.starttls(context=self.context)
                    conn.ehlo()
                elif self.user:
                    conn.close()
                    raise Permanent("the server offers no STARTTLS: refusing to send a password")
            if conn.sock is not None:
                # SMTP is many small writes: without this, delayed ACKs cost ~40 ms a message.
                conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.user:
                conn.login(self.user, self.password or "")
        except smtplib.SMTPAuthenticationError as exc:
            raise Permanent(f"SMTP login refused: {exc.smtp_code} {exc.smtp_error!r}") from exc
        except smtplib.SMTPResponseException as exc:
            raise _code_error(exc.smtp_code, exc.smtp_error) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise Temporary(f"cannot reach {self.host}:{self.port}: {exc}") from exc
        return conn

    def send(self, message: EmailMessage, name: str) -> str:
        if self.conn is None:
            self.conn = self._connect()
        try:
            self.conn.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            self.conn.rset()
            raise _code_error(code, text) from exc
        except smtplib.SMTPResponseException as exc:
            self._drop()
            raise _code_error(exc.smtp_code, exc.smtp_error) from exc
        except (OSError, smtplib.SMTPException) as exc:
            self._drop()
            raise Temporary(f"connection to {self.host}:{self.port} failed: {exc}") from exc
        return ""

    def _drop(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            with contextlib.suppress(OSError):
                conn.close()

    def close(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            try:
                conn.quit()
            except (OSError, smtplib.SMTPException):
                conn.close()
