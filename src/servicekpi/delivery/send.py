"""Sending: email over SMTP (smtplib) and webhooks (JSON, HMAC-SHA256 signed)."""
from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import ssl
import urllib.request
from email.message import EmailMessage
from pathlib import Path

SIGNATURE_HEADER = "X-Servicekpi-Signature"  # "sha256=" + hex HMAC-SHA256 of the raw body
TIMEOUT = 10


class DeliveryError(RuntimeError):
    pass


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str | None) -> bool:
    return bool(header) and hmac.compare_digest(sign(secret, body), header)


def send_email(smtp, to: list[str], subject: str, text: str, attachments: list[Path] = ()) -> dict[str, str]:
    """Send one message to all of `to`; returns the recipients the server refused ({address: reason}),
    empty when every one was accepted. Raises DeliveryError when none was (or the server failed)."""
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = smtp.sender, ", ".join(to), subject
    msg.set_content(text)
    for path in attachments:
        kind = {"xlsx": ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
                "pdf": ("application", "pdf"), "html": ("text", "html")}[path.suffix.lstrip(".")]
        msg.add_attachment(path.read_bytes(), maintype=kind[0], subtype=kind[1], filename=path.name)
    try:
        cls = smtplib.SMTP_SSL if smtp.ssl else smtplib.SMTP
        with cls(smtp.host, smtp.port, timeout=TIMEOUT) as server:
            if smtp.starttls:
                server.starttls(context=ssl.create_default_context())
            if smtp.user:
                server.login(smtp.user, smtp.password or "")
            refused = server.send_message(msg)
    except smtplib.SMTPRecipientsRefused as e:
        raise DeliveryError(f"email to {', '.join(to)} via {smtp.host}:{smtp.port} failed: every recipient "
                            f"refused ({_reasons(e.recipients)})") from None
    except (OSError, smtplib.SMTPException) as e:
        raise DeliveryError(f"email to {', '.join(to)} via {smtp.host}:{smtp.port} failed: {e}") from None
    return {addr: _reasons({addr: why}) for addr, why in refused.items()}


def _reasons(refused: dict) -> str:
    return "; ".join(f"{a}: {c} {m.decode(errors='replace') if isinstance(m, bytes) else m}"
                     for a, (c, m) in refused.items())


def post_webhook(url: str, secret: str, payload: dict) -> None:
    body = json.dumps(payload, ensure_ascii=False, default=str, sort_keys=True).encode()
    req = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json", SIGNATURE_HEADER: sign(secret, body), "User-Agent": "servicekpi"})
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as r:
            if not 200 <= r.status < 300:
                raise DeliveryError(f"webhook {url} answered {r.status}")
    except OSError as e:
        raise DeliveryError(f"webhook {url} failed: {e}") from None
