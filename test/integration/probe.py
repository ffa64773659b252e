#!/usr/bin/env python3
"""Probes for the integration test servers (stdlib only, loopback only).

servers.sh uses it to wait until each server really answers; it is also handy
by hand. Every subcommand exits 0 when the expectation holds, 1 otherwise, and
prints one line saying what it saw.

  probe.py dns NAME TYPE [--server 127.0.0.53] [--rcode NOERROR] [--answer TEXT]
  probe.py banner HOST [--port 25] [--code 220] [--timeout 3] [--transcript FILE]
  probe.py silent HOST [--port 25] [--quiet-ms 300] [--transcript FILE]
  probe.py refused HOST [--port 25]
  probe.py rcpt HOST ADDRESS=CODE[/X.Y.Z] ... [--port 25] [--max-ms 1000]
  probe.py http URL [--status 200] [--contains TEXT] [--timeout 3]
  probe.py ready --state DIR [--timeout 15] < checks   (lines: NAME SUBCOMMAND ARGS...)

--transcript: after the probe, waits until the scripted server has logged the
end of the probe's connection and then empties the transcript, so tests see
only their own traffic.
"""
import argparse
import concurrent.futures
import http.client
import json
import os
import random
import shlex
import smtplib
import socket
import struct
import sys
import time
import urllib.parse

TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16, "AAAA": 28}
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}


def require_loopback(host):
    if not host.startswith("127."):
        sys.exit(f"probe.py talks to loopback (127.0.0.0/8) only, not {host}")


def result(ok, text):
    return ok, ("ok: " if ok else "FAILED: ") + text


# ---- DNS --------------------------------------------------------------------

def read_name(message, offset):
    labels, jumped, end = [], False, offset
    for _ in range(128):  # a bound against compression loops
        length = message[offset]
        if length >= 0xC0:
            if not jumped:
                end = offset + 2
            offset, jumped = struct.unpack_from("!H", message, offset)[0] & 0x3FFF, True
        elif length == 0:
            return ".".join(labels) or ".", (end if jumped else offset + 1)
        else:
            labels.append(message[offset + 1:offset + 1 + length].decode("ascii", "replace"))
            offset += 1 + length
    raise ValueError("name compression loop")


def render_rdata(message, rtype, start, length):
    data = message[start:start + length]
    if rtype == 1:
        return socket.inet_ntop(socket.AF_INET, data)
    if rtype == 28:
        return socket.inet_ntop(socket.AF_INET6, data)
    if rtype == 15:
        return f"{struct.unpack_from('!H', data)[0]} {read_name(message, start + 2)[0]}"
    if rtype == 16:
        parts, at = [], 0
        while at < len(data):
            parts.append(data[at + 1:at + 1 + data[at]].decode("utf-8", "replace"))
            at += 1 + data[at]
        return '"' + "".join(parts) + '"'
    if rtype in (2, 5, 12):
        return read_name(message, start)[0]
    return data.hex()


def dns_query(server, name, rtype, timeout):
    query_id = random.randrange(1, 0xFFFF)
    question = b"".join(bytes([len(p)]) + p.encode("ascii") for p in name.strip(".").split("."))
    packet = struct.pack("!HHHHHH", query_id, 0x0100, 1, 0, 0, 0) + question + b"\0" + \
        struct.pack("!HH", TYPES[rtype], 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        sock.sendto(packet, (server, 53))
        while True:
            message, _ = sock.recvfrom(4096)
            if len(message) >= 12 and struct.unpack_from("!H", message)[0] == query_id:
                break
    flags, qdcount, ancount = struct.unpack_from("!HHH", message, 2)
    offset = 12
    for _ in range(qdcount):
        offset = read_name(message, offset)[1] + 4
    answers = []
    for _ in range(ancount):
        owner, offset = read_name(message, offset)
        atype, _, ttl, length = struct.unpack_from("!HHIH", message, offset)
        offset += 10
        if atype == TYPES[rtype]:
            answers.append(render_rdata(message, atype, offset, length))
        offset += length
    return RCODES.get(flags & 0xF, str(flags & 0xF)), answers


def cmd_dns(args):
    require_loopback(args.server)
    try:
        rcode, answers = dns_query(args.server, args.name, args.type.upper(), args.timeout)
    except (OSError, socket.timeout) as error:
        return result(False, f"DNS {args.type} {args.name} @{args.server}: {error}")
    ok = rcode == args.rcode and (args.answer is None or args.answer in answers)
    return result(ok, f"DNS {args.type} {args.name} @{args.server}: {rcode} {answers}")


# ---- SMTP -------------------------------------------------------------------

def read_reply(sock, timeout):
    """One whole (possibly multi-line) SMTP reply, as a list of lines."""
    sock.settimeout(timeout)
    buffer, lines = b"", []
    while True:
        while b"\n" not in buffer:
            chunk = sock.recv(4096)
            if not chunk:
                raise ConnectionError(f"connection closed after {lines + [buffer]!r}")
            buffer += chunk
        line, buffer = buffer.split(b"\n", 1)
        text = line.decode("utf-8", "replace").rstrip("\r")
        lines.append(text)
        if len(text) < 4 or text[3] != "-":
            return lines


def settle_transcript(path, wait=5.0):
    """Waits until every connection in the transcript has closed, then empties it."""
    deadline = time.monotonic() + wait
    while True:
        with open(path, encoding="utf-8") as f:
            events = [json.loads(line) for line in f if line.strip()]
        opened = {e["conn"] for e in events if e["dir"] == "open"}
        closed = {e["conn"] for e in events if e["dir"] == "close"}
        if opened and opened <= closed:
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path}: probe connection never logged as closed")
        time.sleep(0.02)
    # The server appends (O_APPEND), so after truncation it writes at offset 0.
    open(path, "w", encoding="utf-8").close()


def cmd_banner(args):
    require_loopback(args.host)
    try:
        with socket.create_connection((args.host, args.port), timeout=args.timeout) as sock:
            lines = read_reply(sock, args.timeout)
        if args.transcript:
            settle_transcript(args.transcript)
    except (OSError, TimeoutError) as error:
        return result(False, f"SMTP banner {args.host}:{args.port}: {error}")
    return result(lines[-1][:3] == str(args.code), f"SMTP banner {args.host}:{args.port}: {lines}")


def cmd_silent(args):
    """A tarpit accepts the connection and says nothing."""
    require_loopback(args.host)
    try:
        with socket.create_connection((args.host, args.port), timeout=3) as sock:
            sock.settimeout(args.quiet_ms / 1000)
            try:
                data = sock.recv(1024)
                return result(False, f"SMTP {args.host}:{args.port} should stay silent, sent {data!r}")
            except socket.timeout:
                pass
        if args.transcript:
            settle_transcript(args.transcript)
    except (OSError, TimeoutError) as error:
        return result(False, f"SMTP tarpit {args.host}:{args.port}: {error}")
    return result(True, f"SMTP {args.host}:{args.port} accepts and stays silent")


def cmd_refused(args):
    require_loopback(args.host)
    try:
        socket.create_connection((args.host, args.port), timeout=3).close()
    except ConnectionRefusedError:
        return result(True, f"{args.host}:{args.port} refuses connections")
    except OSError as error:
        return result(False, f"{args.host}:{args.port}: expected a refusal, got {error}")
    return result(False, f"{args.host}:{args.port}: something listens there")


def cmd_rcpt(args):
    """MAIL and RCPT only, never DATA; checks codes, enhanced codes and speed."""
    require_loopback(args.host)
    failures, seen = [], []
    try:
        # local_hostname: without it smtplib calls getfqdn(), a DNS lookup.
        with smtplib.SMTP(args.host, args.port, local_hostname=args.helo,
                          timeout=args.timeout) as smtp:
            smtp.ehlo()
            code, text = smtp.mail(args.mail_from)
            if code != 250:
                failures.append(f"MAIL FROM got {code} {text!r}")
            for spec in args.expect:
                address, _, want = spec.partition("=")
                want_code, _, want_enhanced = want.partition("/")
                started = time.monotonic()
                code, text = smtp.rcpt(address)
                elapsed_ms = (time.monotonic() - started) * 1000
                text = text.decode("utf-8", "replace")
                seen.append(f"{address}: {code} {text} ({elapsed_ms:.0f} ms)")
                if str(code) != want_code or not text.startswith(want_enhanced):
                    failures.append(f"{address}: want {want}, got {code} {text}")
                if elapsed_ms > args.max_ms:
                    failures.append(f"{address}: RCPT took {elapsed_ms:.0f} ms (> {args.max_ms} ms)")
            smtp.rset()
    except (OSError, smtplib.SMTPException) as error:
        failures.append(str(error))
    return result(not failures, f"SMTP RCPT {args.host}:{args.port}: " + "; ".join(failures or seen))


# ---- Many servers at once ---------------------------------------------------

def process_died(state, name):
    """True if <state>/pids/<name>.pid names a process that is gone."""
    try:
        with open(os.path.join(state, "pids", name + ".pid"), encoding="ascii") as f:
            pid = int(f.read().strip())
    except (OSError, ValueError):
        return False  # no pid file (Postfix: written once it answers)
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def tail(path, lines=20):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return ""


def wait_for(check, state, deadline):
    """Retries one check; returns (ok, message naming the server)."""
    name, args = check
    while True:
        try:
            ok, text = args.run(args)
        except Exception as error:  # a probe bug must fail the run, not hang it
            ok, text = False, f"probe error: {error!r}"
        if ok:
            return True, f"{name}: {text}"
        text = text.removeprefix("FAILED: ")
        if process_died(state, name):
            return False, (f"{name} did not start (process exited): {text}\n"
                           f"its output ({state}/{name}.out):\n{tail(f'{state}/{name}.out')}")
        if time.monotonic() > deadline:
            return False, (f"{name} does not answer: {text}\n"
                           f"its output ({state}/{name}.out):\n{tail(f'{state}/{name}.out')}")
        time.sleep(0.1)


def cmd_ready(args, parser):
    """Reads "<server name> <probe subcommand> <args...>" lines from stdin and
    retries them all at once until each passes, a server dies or time is up.
    One process for every check: python start-ups are the slow part."""
    checks = []
    for line in sys.stdin:
        if line.strip() and not line.lstrip().startswith("#"):
            name, *words = shlex.split(line)
            checks.append((name, parser.parse_args(words)))
    deadline = time.monotonic() + args.timeout
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(checks) or 1) as pool:
        results = list(pool.map(lambda check: wait_for(check, args.state, deadline), checks))
    for ok, text in results:
        print(("servers.sh: " if ok else "servers.sh: FAILED: ") + text,
              file=sys.stdout if ok else sys.stderr)
    failed = [check[0] for check, (ok, _) in zip(checks, results) if not ok]
    if failed:
        return result(False, "not ready: " + ", ".join(failed))
    return result(True, f"{len(checks)} checks passed")


# ---- HTTP -------------------------------------------------------------------

def cmd_http(args):
    url = urllib.parse.urlsplit(args.url)
    require_loopback(url.hostname or "")
    try:
        connection = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=args.timeout)
        connection.request("GET", url.path or "/")
        response = connection.getresponse()
        body = response.read().decode("utf-8", "replace")
        connection.close()
    except OSError as error:
        return result(False, f"HTTP GET {args.url}: {error}")
    ok = response.status == args.status and (args.contains is None or args.contains in body)
    return result(ok, f"HTTP GET {args.url}: {response.status} {body[:200]}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    dns = commands.add_parser("dns")
    dns.add_argument("name")
    dns.add_argument("type", choices=sorted(TYPES) + [t.lower() for t in TYPES])
    dns.add_argument("--server", default="127.0.0.53")
    dns.add_argument("--rcode", default="NOERROR")
    dns.add_argument("--answer", help="an answer that must be present, e.g. '10 mx.a.net'")
    dns.add_argument("--timeout", type=float, default=2.0)
    dns.set_defaults(run=cmd_dns)

    banner = commands.add_parser("banner")
    banner.add_argument("host")
    banner.add_argument("--port", type=int, default=25)
    banner.add_argument("--code", type=int, default=220)
    banner.add_argument("--timeout", type=float, default=3.0)
    banner.add_argument("--transcript")
    banner.set_defaults(run=cmd_banner)

    silent = commands.add_parser("silent")
    silent.add_argument("host")
    silent.add_argument("--port", type=int, default=25)
    silent.add_argument("--quiet-ms", type=int, default=300)
    silent.add_argument("--transcript")
    silent.set_defaults(run=cmd_silent)

    refused = commands.add_parser("refused")
    refused.add_argument("host")
    refused.add_argument("--port", type=int, default=25)
    refused.set_defaults(run=cmd_refused)

    rcpt = commands.add_parser("rcpt")
    rcpt.add_argument("host")
    rcpt.add_argument("expect", nargs="+", help="address=code[/enhanced], e.g. a@b.net=550/5.1.1")
    rcpt.add_argument("--port", type=int, default=25)
    rcpt.add_argument("--helo", default="probe.mailsentry.test")
    rcpt.add_argument("--mail-from", default="probe@mailsentry-test.org")
    rcpt.add_argument("--max-ms", type=float, default=1000)
    rcpt.add_argument("--timeout", type=float, default=5.0)
    rcpt.set_defaults(run=cmd_rcpt)

    get = commands.add_parser("http")
    get.add_argument("url")
    get.add_argument("--status", type=int, default=200)
    get.add_argument("--contains")
    get.add_argument("--timeout", type=float, default=3.0)
    get.set_defaults(run=cmd_http)

    ready = commands.add_parser("ready")
    ready.add_argument("--state", required=True, help="servers.sh's state directory")
    ready.add_argument("--timeout", type=float, default=15.0)
    ready.set_defaults(run=lambda args: cmd_ready(args, parser))

    args = parser.parse_args()
    ok, text = args.run(args)
    print(text)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
