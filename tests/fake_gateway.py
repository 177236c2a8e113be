"""A fake SMS gateway: a real HTTP server on localhost speaking the JSON protocol of
``cplan.services.sms_gateways.HttpGateway``, MSDG's form protocol on ``/msdg``, and Exotel's
on ``/v1/Accounts/<sid>/Sms/send.json`` (basic authentication, form fields, an ``SMSMessage``
or ``RestException`` answer, and a status callback per message to the URL it named).

Like the real ones, the JSON and MSDG routes deduplicate on our ``reference``: a message sent
again under a reference it has accepted is answered with the same id and counted in
``duplicates``, not delivered again. The Exotel route, like Exotel, does not: a message sent
again is delivered again (counted in ``duplicates`` all the same, by its ``CustomField``).
What it does with a number is set on the server:

* ``refuse``: numbers refused for good (HTTP 400, a DLT scrubbing code);
* ``busy``: number -> how many times to answer 503 before accepting;
* ``slow``: numbers it answers only after ``slow_seconds`` (longer than the client waits);
* ``hold_at``: the n-th request (1-based) is held ``hold_seconds`` *after* it was accepted and
  before the answer goes back, so a worker killed meanwhile never learns it was sent;
* ``delay``: seconds every answer takes.

``push_reports`` calls back with signed delivery reports for what it accepted, as gateways do.

``python -m tests.fake_gateway --port 8025`` runs it on its own for development and the
benchmark.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import http.server
import json
import threading
import time
import urllib.parse
import urllib.request


class FakeGateway(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address=("127.0.0.1", 0)):
        super().__init__(address, _Handler)
        self.lock = threading.Lock()
        self.requests: list[dict] = []
        self.accepted: dict[str, str] = {}  # reference -> our id
        self.delivered: list[dict] = []  # what reached a handset, once per reference
        self.duplicates = 0
        self.refuse: set[str] = set()
        self.busy: dict[str, int] = {}
        self.slow: set[str] = set()
        self.slow_seconds = 3.0
        self.hold_at: int | None = None
        self.hold_seconds = 5.0
        self.delay = 0.0
        self.thread: threading.Thread | None = None
        # Exotel: the basic-authentication pair it accepts, and per accepted message its
        # (sid, reference, status callback URL), for ``exotel_callbacks``.
        self.exotel_auth = ("exo-key", "exo-token")
        self.exotel_accepted: list[tuple[str, str, str]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def start(self) -> FakeGateway:
        self.thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        if self.thread:
            self.thread.join()

    def push_reports(self, url: str, secret: str, status: str = "delivered", host=None) -> dict:
        """Post a signed delivery report for every message accepted so far, as a real gateway
        calls back (one batch); returns the JSON answer."""
        with self.lock:
            reports = [
                {"reference": reference, "id": gateway_id, "status": status}
                for reference, gateway_id in self.accepted.items()
            ]
        body, headers = signed_report(secret, reports)
        if host:
            headers["Host"] = host
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def exotel_callbacks(self, status="delivered", detailed="DELIVERED_TO_HANDSET"):
        """The status callbacks Exotel would make for what it accepted: (URL, form) pairs, one
        per message sent (a duplicate has its own), as ``POST`` with form fields."""
        with self.lock:
            accepted = list(self.exotel_accepted)
        return [
            (
                url,
                {
                    "SmsSid": sid,
                    "Status": status,
                    "DetailedStatus": detailed,
                    "DateSent": "2026-11-20 11:00:05",
                    "CustomField": reference,
                },
            )
            for sid, reference, url in accepted
            if url
        ]

    def push_exotel_callbacks(self, status="delivered", host=None) -> list[dict]:
        """Make the status callbacks over HTTP, as Exotel does; returns the JSON answers."""
        answers = []
        for url, form in self.exotel_callbacks(status):
            headers = {"Content-Type": "application/x-www-form-urlencoded"}
            if host:
                headers["Host"] = host
            body = urllib.parse.urlencode(form).encode()
            request = urllib.request.Request(url, data=body, headers=headers, method="POST")
            with urllib.request.urlopen(request, timeout=10) as response:
                answers.append(json.loads(response.read()))
        return answers

    def decide(self, message: dict, deduplicate: bool = True) -> tuple[int, dict, float]:
        """(HTTP status, JSON answer, seconds to wait after deciding) for one message."""
        number, reference = message.get("to", ""), message.get("reference", "")
        with self.lock:
            self.requests.append(message)
            position = len(self.requests)
            if number in self.refuse:
                return 400, {"code": "DLT_TEMPLATE_NOT_MATCHED"}, self.delay
            if self.busy.get(number, 0) > 0:
                self.busy[number] -= 1
                return 503, {"code": "BUSY"}, self.delay
            if number in self.slow:
                return 200, {"id": "late"}, self.slow_seconds
            wait = self.delay
            if self.hold_at is not None and position == self.hold_at:
                wait = self.hold_seconds
            if not deduplicate:
                if reference in self.accepted:
                    self.duplicates += 1
                sid = f"exo-{len(self.exotel_accepted) + 1}"
                self.accepted.setdefault(reference, sid)
                self.exotel_accepted.append((sid, reference, message.get("callback", "")))
                self.delivered.append(message)
                return 200, {"id": sid}, wait
            if reference in self.accepted:
                self.duplicates += 1
            else:
                self.accepted[reference] = f"fg-{len(self.accepted) + 1}"
                self.delivered.append(message)
            return 200, {"id": self.accepted[reference]}, wait


def signed_reply(secret: str, number: str, text: str, reply_id: str) -> tuple[bytes, dict]:
    """A citizen's SMS reply as the gateway forwards it: ``from`` (the number as gateways write
    it, 91XXXXXXXXXX), ``text``, ``id`` (the gateway's id of the reply), signed like a report."""
    return signed_report(secret, {"from": number, "text": text, "id": reply_id})


def signed_report(secret: str, reports) -> tuple[bytes, dict]:
    """A delivery-report request as the gateway sends it: the JSON body and its headers, signed
    with HMAC-SHA256 under the shared secret."""
    body = json.dumps(reports, ensure_ascii=False).encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return body, {"X-Signature": signature, "Content-Type": "application/json"}


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 (the name http.server calls)
        length = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(length)
        if not data or len(data) < length:
            # The sender died mid-request (a worker killed while sending): like a real gateway,
            # nothing incomplete is taken as a message.
            self.close_connection = True
            return
        raw = data.decode("utf-8")
        if self.path.startswith("/v1/Accounts/") and "/Sms/send" in self.path:
            self._exotel(raw)
            return
        if self.path.startswith("/msdg"):
            fields = {k: v[0] for k, v in urllib.parse.parse_qs(raw).items()}
            message = {
                "to": "91" + fields.get("mobileno", ""),
                "reference": fields.get("key", ""),
                "text": fields.get("content", ""),
                "fields": fields,
            }
            status, answer, wait = self.server.decide(message)
            body = (
                f"402,MsgID = {answer['id']}" if status == 200 else f"{answer.get('code')},error"
            ).encode()
        else:
            message = json.loads(raw or "{}")
            status, answer, wait = self.server.decide(message)
            body = json.dumps(answer).encode()
        if wait:
            time.sleep(wait)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _exotel(self, raw: str) -> None:
        expected = "Basic " + base64.b64encode(":".join(self.server.exotel_auth).encode()).decode()
        if not hmac.compare_digest(self.headers.get("Authorization", ""), expected):
            status, answer, wait = 401, {"code": "UNAUTHORIZED"}, 0.0
        else:
            fields = {k: v[0] for k, v in urllib.parse.parse_qs(raw).items()}
            message = {
                "to": fields.get("To", "").lstrip("+"),
                "reference": fields.get("CustomField", ""),
                "text": fields.get("Body", ""),
                "callback": fields.get("StatusCallback", ""),
                "fields": fields,
            }
            status, answer, wait = self.server.decide(message, deduplicate=False)
        if status == 200:
            body = {"SMSMessage": {"Sid": answer["id"], "Status": "queued"}}
        else:
            code = "FAILED_DLT_TEMPLATE" if status == 400 else answer.get("code")
            body = {"RestException": {"Status": status, "Code": code, "Message": code}}
        if wait:
            time.sleep(wait)
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--delay", type=float, default=0.0)
    options = parser.parse_args()
    server = FakeGateway(("127.0.0.1", options.port))
    server.delay = options.delay
    print(f"fake gateway on {server.url}/send (Ctrl-C to stop)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    print(f"accepted {len(server.accepted)}, duplicates {server.duplicates}")


if __name__ == "__main__":
    main()
