"""The local mailbox: what SNS would have emailed (email, email-json) or texted (sms).

An mbox file under the data directory (`sns/mail.mbox`), which any mail reader opens;
`cloudlet mail` shows it through the running server (`GET /_cloudlet/sns/mail`, signed
by an account's root), one account's messages at a time. Each message names its accounts
in `X-Cloudlet-Accounts` (the topic's, and a cross-account subscriber's); one written
before that header existed belongs to its `X-Amz-Sns-Topic-Arn`'s account, and one with
neither (an SMS published to a phone number then) to no account."""

from __future__ import annotations

import email.utils
import mailbox
import threading
from email.message import EmailMessage
from pathlib import Path

from cloudlet import clock

SENDER = "no-reply@sns.amazonaws.com"
ACCOUNTS_HEADER = "X-Cloudlet-Accounts"


class Outbox:
    def __init__(self, directory: Path):
        self.path = Path(directory) / "mail.mbox"
        self._lock = threading.Lock()

    def write(self, to: str, subject: str, body: str, *, accounts: tuple[str, ...],
              protocol: str = "email", sender_name: str = "AWS Notifications",
              headers: dict | None = None) -> None:
        message = EmailMessage()
        message["From"] = email.utils.formataddr((sender_name, SENDER))
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = email.utils.format_datetime(clock.now())
        message["X-Cloudlet-Protocol"] = protocol
        message[ACCOUNTS_HEADER] = " ".join(accounts)
        for name, value in (headers or {}).items():
            message[name] = value
        message.set_content(body)
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            box = mailbox.mbox(self.path)
            try:
                box.lock()
                box.add(message)
                box.flush()
            finally:
                box.unlock()
                box.close()

    def messages(self, account: str, to: str | None = None) -> list[dict]:
        if not self.path.exists():
            return []
        with self._lock:
            box = mailbox.mbox(self.path)
            try:
                found = []
                for message in box:
                    if to is not None and message["To"] != to:
                        continue
                    if account not in _accounts_of(message):
                        continue
                    payload = message.get_payload(decode=True) or b""
                    found.append({
                        "from": message["From"], "to": message["To"],
                        "subject": message["Subject"], "date": message["Date"],
                        "protocol": message["X-Cloudlet-Protocol"],
                        "topic_arn": message["X-Amz-Sns-Topic-Arn"],
                        "body": payload.decode(message.get_content_charset() or "utf-8",
                                               errors="replace"),
                    })
                return found
            finally:
                box.close()


def _accounts_of(message) -> list[str]:
    named = message[ACCOUNTS_HEADER]
    if named is not None:
        return str(named).split()
    arn = str(message["X-Amz-Sns-Topic-Arn"] or "").split(":")
    return [arn[4]] if len(arn) > 5 else []
