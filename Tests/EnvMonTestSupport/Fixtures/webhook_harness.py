"""A real HTTP listener on loopback for EnvMonNotify's webhook tests.

Prints the listening port on the first line of stdout. Every POST is written as one JSON file
into OUTDIR (path, content type, body as text). The path chooses the answer:
  /status/NNN      -> HTTP NNN
  /slow            -> waits 10 s, then 200 (for client timeouts)
  /errcode/N       -> 200 with {"errcode": N, "errmsg": "..."} (WeCom/DingTalk robots)
  anything else    -> 200 with {"errcode": 0, "errmsg": "ok"}
"""

import argparse
import json
import os
import signal
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def make_handler(outdir):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            record = {
                "path": self.path,
                "content_type": self.headers.get("Content-Type"),
                "body": body.decode("utf-8"),
            }
            name = os.path.join(outdir, uuid.uuid4().hex + ".json")
            with open(name + ".tmp", "w", encoding="utf-8") as f:
                json.dump(record, f)
            os.rename(name + ".tmp", name)

            status, answer = 200, {"errcode": 0, "errmsg": "ok"}
            parts = self.path.strip("/").split("/")
            if parts[0] == "status" and len(parts) > 1:
                status = int(parts[1])
            elif parts[0] == "slow":
                time.sleep(10)
            elif parts[0] == "errcode" and len(parts) > 1:
                answer = {"errcode": int(parts[1]), "errmsg": "refused by test"}
            payload = json.dumps(answer).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format, *args):
            pass

    return Handler


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--outdir", required=True)
    args = parser.parse_args()
    # The test runner may start us with SIGTERM blocked or ignored; the test stops us with it.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(args.outdir))
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
