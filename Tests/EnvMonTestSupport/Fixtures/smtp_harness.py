"""A real SMTP server on loopback for EnvMonNotify's tests, around aiosmtpd's Controller.

Prints the listening port on the first line of stdout, then serves until terminated. Every
message received is written as one JSON file into OUTDIR: envelope sender, recipients, the raw
content (base64, so no byte is altered), whether the session ran over TLS and who logged in.

--mode silent accepts connections and never answers (for timeouts).
Runs under Debian's /usr/bin/python3 with python3-aiosmtpd.
"""

import argparse
import base64
import json
import os
import signal
import socket
import ssl
import sys
import threading
import uuid

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class RecordingHandler:
    def __init__(self, outdir):
        self.outdir = outdir

    async def handle_DATA(self, server, session, envelope):
        auth = session.auth_data if isinstance(session.auth_data, dict) else {}
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "content_base64": base64.b64encode(envelope.original_content or b"").decode("ascii"),
            # session.ssl is set by STARTTLS; an implicit TLS transport shows in its ssl_object.
            "tls": session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None,
            "authenticated": bool(session.authenticated),
            "login": auth.get("login"),
            "mechanism": auth.get("mechanism"),
        }
        name = os.path.join(self.outdir, uuid.uuid4().hex + ".json")
        # Written under a temporary name and renamed, so the test never reads half a file.
        with open(name + ".tmp", "w", encoding="utf-8") as f:
            json.dump(record, f)
        os.rename(name + ".tmp", name)
        return "250 OK message accepted"


class RejectingRecipients(RecordingHandler):
    """Refuses recipients whose local part starts with 'nobody' (550) or 'busy' (450)."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0]
        if local.startswith("nobody"):
            return "550 5.1.1 no such mailbox"
        if local.startswith("busy"):
            return "450 4.2.1 mailbox busy, try later"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def make_authenticator(user, password):
    def authenticator(server, session, envelope, mechanism, auth_data):
        if (isinstance(auth_data, LoginPassword)
                and auth_data.login == user.encode("utf-8")
                and auth_data.password == password.encode("utf-8")):
            return AuthResult(success=True, auth_data={"login": user, "mechanism": mechanism})
        return AuthResult(success=False, handled=False)
    return authenticator


def free_port():
    # aiosmtpd's Controller connects to its own port to start, so it needs a concrete port.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_silently(outdir):
    """Accepts connections and never says a word, like a hung server (for reply timeouts).
    Each accepted connection is announced by an empty file connection-N in OUTDIR."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", free_port()))
    listener.listen(8)
    print(listener.getsockname()[1], flush=True)
    held = []
    while True:  # until SIGTERM ends the process
        connection, _ = listener.accept()
        held.append(connection)
        open(os.path.join(outdir, "connection-%d" % len(held)), "w").close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--outdir", required=True)
    parser.add_argument("--mode", choices=["plain", "starttls", "implicit", "silent"], default="starttls")
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--user")
    parser.add_argument("--password")
    parser.add_argument("--reject-some-recipients", action="store_true")
    parser.add_argument("--exclude-auth", action="append", default=[], help="an AUTH mechanism not to offer")
    args = parser.parse_args()
    # The test runner may start us with SIGTERM blocked or ignored; the test stops us with it.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    signal.signal(signal.SIGTERM, signal.SIG_DFL)

    if args.mode == "silent":
        serve_silently(args.outdir)
        return

    context = None
    if args.mode in ("starttls", "implicit"):
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)

    handler_type = RejectingRecipients if args.reject_some_recipients else RecordingHandler
    kwargs = {"hostname": "127.0.0.1", "server_hostname": "envmon-test-smtp"}
    if args.user is not None:
        kwargs["authenticator"] = make_authenticator(args.user, args.password or "")
        # Only STARTTLS sessions count as TLS for aiosmtpd 1.4's auth_require_tls; an implicit
        # TLS connection is encrypted from the first byte, so the check is not needed there.
        kwargs["auth_require_tls"] = args.mode == "starttls"
        kwargs["auth_exclude_mechanism"] = args.exclude_auth
    else:
        kwargs["auth_require_tls"] = False
    if args.mode == "starttls":
        kwargs["tls_context"] = context
        kwargs["require_starttls"] = True
    elif args.mode == "implicit":
        kwargs["ssl_context"] = context

    last_error = None
    for _ in range(20):
        try:
            controller = Controller(handler_type(args.outdir), port=free_port(), **kwargs)
            controller.start()
            break
        except OSError as error:  # the port was taken between free_port() and start()
            last_error = error
    else:
        print(f"cannot start: {last_error}", file=sys.stderr)
        sys.exit(1)

    print(controller.port, flush=True)
    # Serves until the test sends SIGTERM, whose default action ends the process at once.
    threading.Event().wait()


if __name__ == "__main__":
    main()
