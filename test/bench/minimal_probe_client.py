#!/usr/bin/env python3
"""The minimal SMTP probe client of postfix_bulk_bench.sh (loopback only,
stdlib only): a baseline for verify_emails() against the same mail server.

  minimal_probe_client.py HOST --addresses FILE [--port 25] [--parallel 8]
                          [--helo localhost] [--mail-from ''] [--timeout 10]

FILE holds one "address<TAB>expected" line per address (expected: 1 = the
mailbox exists, 0 = it does not). For every address, ONE SMTP connection:
connect, banner, EHLO, MAIL FROM, RCPT TO, QUIT, each command waiting for its
reply (no pipelining, no STARTTLS, no DNS: HOST is the MX). PARALLEL threads
take the addresses in file order. The defaults send what mailsentry sends
with its default settings (EHLO localhost, MAIL FROM:<>).

Prints one line of "key=value" pairs: addresses, seconds, rate (addresses/s),
median_ms (the median time of one probe, connect to QUIT's reply; with
--parallel 1 the bare probe a single verification is compared with),
accepted (250/251), rejected (550), other (any other RCPT reply), errors
(connection or protocol failures), wrong (answers that contradict the
expectation; "other" and errors count as wrong), then up to five examples of
other replies and errors. Exit status 0 when every address was answered as
expected.
"""
import argparse
import collections
import socket
import statistics
import sys
import threading
import time


def read_reply(reader):
    """Returns (code, last line) of a possibly multi-line SMTP reply."""
    while True:
        line = reader.readline(2048)
        if not line:
            raise ConnectionError("connection closed by the server")
        text = line.decode("utf-8", "replace").rstrip("\r\n")
        if len(text) < 4 or text[3] != "-":
            if not text[:3].isdigit():
                raise ConnectionError(f"malformed reply {text!r}")
            return int(text[:3]), text


def command(sock, reader, line):
    sock.sendall(line.encode("utf-8") + b"\r\n")
    return read_reply(reader)


def probe(host, port, helo, mail_from, address, timeout):
    """One connection for one address; returns the RCPT reply (code, text)."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        reader = sock.makefile("rb")
        code, text = read_reply(reader)
        if code != 220:
            raise ConnectionError(f"banner: {text}")
        code, text = command(sock, reader, f"EHLO {helo}")
        if code != 250:
            raise ConnectionError(f"EHLO: {text}")
        code, text = command(sock, reader, f"MAIL FROM:<{mail_from}>")
        if code != 250:
            raise ConnectionError(f"MAIL FROM: {text}")
        rcpt = command(sock, reader, f"RCPT TO:<{address}>")
        command(sock, reader, "QUIT")
        return rcpt


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("host")
    parser.add_argument("--addresses", required=True)
    parser.add_argument("--port", type=int, default=25)
    parser.add_argument("--parallel", type=int, default=8)
    parser.add_argument("--helo", default="localhost")
    parser.add_argument("--mail-from", default="")
    parser.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args()
    if not args.host.startswith("127."):
        sys.exit("minimal_probe_client.py talks to loopback (127.0.0.0/8) only")
    work = []
    with open(args.addresses, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                address, expected = line.rstrip("\n").split("\t")
                work.append((address, expected == "1"))

    lock = threading.Lock()
    counts = collections.Counter()
    examples = []
    probe_ms = []
    next_index = iter(range(len(work)))

    def run():
        while True:
            with lock:
                index = next(next_index, None)
            if index is None:
                return
            address, expected = work[index]
            probe_started = time.monotonic()
            try:
                code, text = probe(args.host, args.port, args.helo, args.mail_from, address,
                                   args.timeout)
                kind = "accepted" if code in (250, 251) else "rejected" if code == 550 else "other"
                wrong = kind == "other" or (kind == "accepted") != expected
                note = f"{address}: {text}" if kind == "other" else None
            except (OSError, ConnectionError) as error:
                kind, wrong, note = "errors", True, f"{address}: {error}"
            elapsed_ms = (time.monotonic() - probe_started) * 1000
            with lock:
                probe_ms.append(elapsed_ms)
                counts[kind] += 1
                counts["wrong"] += wrong
                if note and len(examples) < 5:
                    examples.append(note)

    started = time.monotonic()
    threads = [threading.Thread(target=run, daemon=True) for _ in range(max(1, args.parallel))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.monotonic() - started
    median_ms = statistics.median(probe_ms) if probe_ms else 0.0
    print(f"addresses={len(work)} seconds={seconds:.2f} rate={len(work) / seconds:.1f} "
          f"median_ms={median_ms:.3f} "
          f"accepted={counts['accepted']} rejected={counts['rejected']} other={counts['other']} "
          f"errors={counts['errors']} wrong={counts['wrong']}"
          + "".join(f"\nexample: {note}" for note in examples))
    sys.exit(1 if counts["wrong"] else 0)


if __name__ == "__main__":
    main()
