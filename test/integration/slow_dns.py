#!/usr/bin/env python3
"""A DNS server that answers slowly, badly or not at all (loopback only,
stdlib only).

dnsmasq forwards some zones here. A query for --slow-name is answered after
--delay-ms with A 127.0.0.2 (listed); a name at or below a --servfail-zone
gets SERVFAIL, one at or below a --silent-zone no answer at all; every other
name is NXDOMAIN at once. Each query is logged as a JSON line to --log.

  slow_dns.py --host 127.0.0.54 --port 53 --zone slowbl.blocklist-test.org \
              --slow-name slow-mail.net.slowbl.blocklist-test.org --delay-ms 3000 --log q.jsonl
"""

import argparse
import json
import socketserver
import struct
import threading
import time


def question_name(packet):
    labels, i = [], 12
    while packet[i] != 0:
        length = packet[i]
        labels.append(packet[i + 1:i + 1 + length].decode("ascii", "replace"))
        i += 1 + length
    return ".".join(labels).lower(), i + 5  # end of QNAME + QTYPE + QCLASS


def answer(packet, listed, rcode=3):
    name, question_end = question_name(packet)
    query_id = packet[:2]
    # response, authoritative, RD|RA; rcode 0 when listed, else NXDOMAIN (3) or SERVFAIL (2)
    flags = 0x8580 if listed else 0x8580 | rcode
    counts = struct.pack(">HHHH", 1, 1 if listed else 0, 0, 0)
    response = query_id + struct.pack(">H", flags) + counts + packet[12:question_end]
    if listed:
        response += struct.pack(">HHHIH", 0xC00C, 1, 1, 60, 4) + bytes([127, 0, 0, 2])
    return name, response


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, default=53)
    parser.add_argument("--slow-name", required=True)
    parser.add_argument("--delay-ms", type=int, default=3000)
    parser.add_argument("--servfail-zone", action="append", default=[])
    parser.add_argument("--silent-zone", action="append", default=[])
    parser.add_argument("--log", required=True)
    args = parser.parse_args()

    def under(name, zones):
        return any(name == z.lower() or name.endswith("." + z.lower()) for z in zones)

    if not args.host.startswith("127."):
        raise SystemExit("slow_dns.py listens on loopback addresses only")
    log_lock = threading.Lock()
    log = open(args.log, "a", encoding="utf-8")

    class Handler(socketserver.BaseRequestHandler):
        def handle(self):
            packet, sock = self.request
            name, _ = question_name(packet)
            slow = name == args.slow_name.lower()
            with log_lock:
                log.write(json.dumps({"t": time.monotonic(), "name": name}) + "\n")
                log.flush()
            if under(name, args.silent_zone):
                return
            if under(name, args.servfail_zone):
                sock.sendto(answer(packet, False, rcode=2)[1], self.client_address)
                return
            if slow:
                time.sleep(args.delay_ms / 1000)
            sock.sendto(answer(packet, slow)[1], self.client_address)

    class Server(socketserver.ThreadingUDPServer):
        daemon_threads = True
        allow_reuse_address = True

    with Server((args.host, args.port), Handler) as server:
        server.serve_forever()


if __name__ == "__main__":
    main()
