#!/usr/bin/env python3
"""RDAP over plain HTTP on a fixed loopback address and port, for servers.sh.

Reuses test/servers/rdap_whois_responder.py's request handler (same fixture
format, same JSON-lines request log) and adds only what the integration tests
need and the unit-test responder lacks:
  - a fixed address and port (--host 127.0.0.44 --port 80) instead of
    127.0.0.1 and ports the OS picks;
  - an optional per-domain "delay_ms" in a fixture entry: the request is
    logged on arrival, the answer is sent delay_ms later (other requests are
    served meanwhile: one thread per request).

Usage:
  rdap_server.py --host 127.0.0.44 --port 80 --fixtures f.json --log rdap.jsonl
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "servers"))
import rdap_whois_responder as responder  # noqa: E402


class RdapServer(responder.ThreadingHttpServer):
    def server_bind(self):
        # HTTPServer.server_bind() calls socket.getfqdn(host): a reverse DNS
        # lookup through the machine's resolver. Tests must never use it.
        responder.socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]


def make_handler(fixtures, log_path):
    # The responder's handler honours "delay_ms" itself (logged on arrival,
    # answered later; one thread per request).
    return responder.make_rdap_handler("http", fixtures, log_path)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, default=80)
    parser.add_argument("--fixtures", required=True)
    parser.add_argument("--log", required=True)
    args = parser.parse_args()
    if not args.host.startswith("127."):
        sys.exit("rdap_server.py listens on loopback (127.0.0.0/8) only")
    with open(args.fixtures, encoding="utf-8") as f:
        fixtures = json.load(f)
    open(args.log, "a", encoding="utf-8").close()  # exists (and is readable) before any request
    server = RdapServer((args.host, args.port), make_handler(fixtures, args.log))
    server.serve_forever()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
