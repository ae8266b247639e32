"""Saved e-mail: .eml (one message) and .mbox (a mailbox), read with the standard email and mailbox modules.

Each message is one part: its Subject, From, To and Date lines, then its text (the plain body, or the
HTML one as text) and the names of its attachments. The section is "subject (YYYY-MM-DD)", so a
citation names the message; the message's date is the document's date (a mailbox's newest one).
"""

from __future__ import annotations

import email
import mailbox
import tempfile
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from rag.ingestion.parsed import LoadError, LoadOptions, Parsed, TextBuilder, iso_date
from rag.ingestion.structure import html_text

_SHOWN = ("Subject", "From", "To", "Cc", "Date")


def _sent(message: EmailMessage) -> str | None:
    """Return the day a message was sent (its Date header), None when missing or malformed."""
    try:
        header: Any = message["date"]
        return iso_date(header.datetime) if header is not None and header.datetime else None
    except (TypeError, ValueError, AttributeError):
        return None


def _body(message: EmailMessage) -> str:
    """Return a message's text: its plain body, else its HTML body as text."""
    from bs4 import BeautifulSoup

    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, ValueError):  # an unknown charset or a broken encoding
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else str(payload)
    if part.get_content_type() == "text/html":
        soup = BeautifulSoup(content, "html.parser")
        return html_text(soup.body or soup)[0]
    return str(content)


def _add_message(out: TextBuilder, message: EmailMessage) -> tuple[str, str | None]:
    """Add one message as a part; return its subject and the day it was sent."""
    subject = " ".join(str(message.get("subject", "")).split()) or "(no subject)"
    sent = _sent(message)
    head = [f"{name}: {' '.join(str(message[name]).split())}" for name in _SHOWN if message[name]]
    files = [name for part in message.iter_attachments() if (name := part.get_filename())]
    tail = [f"Attachments: {', '.join(files)}"] if files else []
    text = "\n".join(head) + "\n\n" + _body(message).strip() + ("\n\n" + "\n".join(tail) if tail else "")
    out.add(text, section=f"{subject} ({sent})" if sent else subject, block=True)
    return subject, sent


def eml(data: bytes, _: LoadOptions | None = None) -> Parsed:
    """Read one saved message (.eml): title is its subject, date the day it was sent."""
    message = email.message_from_bytes(data, policy=policy.default)
    if not isinstance(message, EmailMessage) or not any(message[name] for name in _SHOWN):
        raise LoadError("not an e-mail message (no Subject, From, To or Date header); check its type")
    out = TextBuilder()
    subject, sent = _add_message(out, message)
    return out.parsed(subject, sent)


def _message(file: Any) -> EmailMessage:
    """Parse one mailbox message with the modern policy (decoded headers, ``get_body``)."""
    return email.message_from_binary_file(file, policy=policy.default)


def mbox(data: bytes, _: LoadOptions | None = None) -> Parsed:
    """Read a mailbox (.mbox): every message in order; the date is the newest message's."""
    out = TextBuilder()
    subjects: list[str] = []
    days: list[str] = []
    # The mailbox module reads only from a file path; the bytes already read (and hashed) are
    # written to a private temporary file so that exactly they are indexed.
    with tempfile.TemporaryDirectory(prefix="rag-mbox-") as folder:
        path = Path(folder) / "mail.mbox"
        path.write_bytes(data)
        box = mailbox.mbox(path, factory=_message)  # type: ignore[arg-type]
        try:
            for message in box:
                if isinstance(message, EmailMessage):
                    subject, sent = _add_message(out, message)
                    subjects.append(subject)
                    days += [sent] if sent else []
        finally:
            box.close()
    if not subjects:
        raise LoadError("no messages found in the mailbox (an mbox file starts with a 'From ' line)")
    more = len(subjects) - 1
    more_text = f" (and {more} more message{'s' if more > 1 else ''})" if more else ""
    return out.parsed(subjects[0] + more_text, max(days, default=None))


LOADERS = {".eml": eml, ".mbox": mbox}
NO_TEXT = {".eml": "no text found in the message", ".mbox": "no text found in the mailbox"}
