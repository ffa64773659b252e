#!/usr/bin/env python3
"""Checks a benchmark's scripted SMTP server (loopback only, stdlib only).

  pipeline_probe.py HOST [--port 25] [--pipelining yes|no] ADDRESS=CODE ...

EHLO, then (when the server offers PIPELINING) MAIL FROM and one RCPT TO per
ADDRESS sent in ONE write, else one command after another; checks each RCPT
reply code and that PIPELINING is offered or not as --pipelining says. Prints
the replies and how long the MAIL+RCPT batch took: with "delays_ms" D and
"reply_timing": "arrival" a pipelined batch takes about D ms, answered one
after another (k + 1) x D. Exit status 0 when every expectation holds.
"""
import argparse
import socket
import sys
import time


def read_reply(sock_file):
    lines = []
    while True:
        line = sock_file.readline()
        if not line:
            raise ConnectionError(f"connection closed after {lines!r}")
        text = line.decode("utf-8", "replace").rstrip("\r\n")
        lines.append(text)
        if len(text) < 4 or text[3] != "-":
            return lines


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("host")
    parser.add_argument("expect", nargs="+", help="address=code, e.g. a@b.net=550")
    parser.add_argument("--port", type=int, default=25)
    parser.add_argument("--pipelining", choices=["yes", "no"])
    parser.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args()
    if not args.host.startswith("127."):
        sys.exit("pipeline_probe.py talks to loopback (127.0.0.0/8) only")
    failures = []
    with socket.create_connection((args.host, args.port), timeout=args.timeout) as sock:
        f = sock.makefile("rb")
        read_reply(f)
        sock.sendall(b"EHLO probe.mailsentry.bench\r\n")
        ehlo = read_reply(f)
        offered = any(line[4:].split(" ")[0].upper() == "PIPELINING" for line in ehlo[1:])
        if args.pipelining and offered != (args.pipelining == "yes"):
            failures.append(f"PIPELINING offered: {offered}, expected {args.pipelining}")
        pairs = [spec.rsplit("=", 1) for spec in args.expect]
        commands = [b"MAIL FROM:<probe@mailsentry-bench.org>\r\n"] + \
                   [f"RCPT TO:<{address}>\r\n".encode() for address, _ in pairs]
        started = time.monotonic()
        replies = []
        if offered:
            sock.sendall(b"".join(commands))
            replies = [read_reply(f) for _ in commands]
        else:
            for command in commands:
                sock.sendall(command)
                replies.append(read_reply(f))
        elapsed_ms = (time.monotonic() - started) * 1000
        for (address, want), reply in zip(pairs, replies[1:]):
            if reply[-1][:3] != want:
                failures.append(f"{address}: want {want}, got {reply[-1]}")
        sock.sendall(b"QUIT\r\n")
        read_reply(f)
    mode = "pipelined" if offered else "one by one"
    print(("ok: " if not failures else "FAILED: ") +
          f"{args.host}: MAIL + {len(pairs)} RCPT {mode} in {elapsed_ms:.0f} ms; "
          + "; ".join(failures or [f"{a}: {r[-1]}" for (a, _), r in zip(pairs, replies[1:])]))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
