#!/usr/bin/env python3
"""Scripted SMTP server for the prober tests (loopback only, stdlib only).

Usage:
  scripted_smtp.py --host 127.0.0.2 [--port 0] --scenario scenario.json
                   --transcript events.jsonl --port-file port.txt

The server binds host:port (port 0 picks a free one), writes the port to
--port-file once it accepts connections, and appends one JSON object per
event to --transcript:
  {"t": <monotonic seconds>, "conn": <id>, "dir": "open"|"C"|"S"|"tls"|"close", "text": "..."}
"open" carries the client's "ip:port". Scenario keys (all optional):

  banner            reply spec for the greeting             (default [220, "scripted ESMTP"])
  banner_delay_ms   delay before the greeting; -1 = never (tarpit)
  capabilities      EHLO keywords, e.g. ["PIPELINING", "STARTTLS", "SMTPUTF8"]
  commands          {"EHLO"|"HELO"|"MAIL"|"RSET"|"STARTTLS"|"QUIT"|...: reply spec}
  delays_ms         {"EHLO"|"MAIL"|"RCPT"|...|"*": ms before replying; -1 = never}
  reply_timing      when a delay starts counting:
                      "sequential" (default): once the previous command has been
                        answered, so pipelined commands wait one after another;
                      "arrival": when the command arrived, so pipelined commands
                        overlap (N pipelined RCPTs with 20 ms each are all answered
                        about 20 ms after they came in). Replies stay in order: a
                        reply is never sent before the previous command's reply.
  recipients        {"user@example.test": reply spec}  (case-insensitive)
  default_recipient reply spec for unlisted recipients     (default [550, "5.1.1 No such user"])
  catch_all         true: unlisted recipients get [250, "2.1.5 OK"]
  rcpt_all          reply spec for every RCPT (overrides the above)
  greylist          true: the first RCPT of each address (server-wide) gets
                    greylist_reply (default [451, "4.7.1 Greylisted, try again later"])
  tls_cert, tls_key PEM paths; without them a self-signed pair is made with `openssl req`

A reply spec is [code, "text"], [code, ["line 1", "line 2"]] (multi-line), or
{"raw": "bytes sent verbatim"}; a dict may add "close": true to drop the
connection after the reply.
"""

import argparse
import asyncio
import json
import os
import ssl
import subprocess
import sys
import time


class Transcript:
    def __init__(self, path):
        self._file = open(path, "a", encoding="utf-8")

    def log(self, conn, direction, text):
        event = {"t": time.monotonic(), "conn": conn, "dir": direction, "text": text}
        self._file.write(json.dumps(event) + "\n")
        self._file.flush()


def render(spec):
    """Returns (bytes to send, close after) for a reply spec."""
    close = False
    if isinstance(spec, dict):
        close = bool(spec.get("close", False))
        if "raw" in spec:
            return spec["raw"].encode("utf-8", "surrogateescape"), close
        spec = [spec.get("code", 250), spec.get("text", "")]
    code, text = spec[0], spec[1] if len(spec) > 1 else ""
    lines = text if isinstance(text, list) else [text]
    if not lines:
        lines = [""]
    out = []
    for index, line in enumerate(lines):
        separator = " " if index == len(lines) - 1 else "-"
        out.append(f"{code}{separator}{line}".rstrip() + "\r\n")
    return "".join(out).encode("utf-8"), close


def make_tls_context(scenario, workdir):
    cert, key = scenario.get("tls_cert"), scenario.get("tls_key")
    if not cert or not key:
        cert = os.path.join(workdir, "cert.pem")
        key = os.path.join(workdir, "key.pem")
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
             "-subj", "/CN=scripted-smtp.test", "-keyout", key, "-out", cert],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


class Server:
    def __init__(self, scenario, transcript, tls_context):
        self.scenario = scenario
        self.transcript = transcript
        self.tls_context = tls_context
        self.next_conn = 1
        self.greylist_seen = set()
        # Looked up once per RCPT: a benchmark scenario may list thousands.
        self.listed = {k.lower(): v for k, v in scenario.get("recipients", {}).items()}
        timing = scenario.get("reply_timing", "sequential")
        if timing not in ("sequential", "arrival"):
            raise ValueError(f"reply_timing must be 'sequential' or 'arrival', not {timing!r}")
        self.arrival_timing = timing == "arrival"

    def delay_for(self, verb):
        delays = self.scenario.get("delays_ms", {})
        return delays.get(verb, delays.get("*", 0))

    def recipient_reply(self, address):
        s = self.scenario
        if "rcpt_all" in s:
            return s["rcpt_all"]
        key = address.lower()
        if s.get("greylist") and key not in self.greylist_seen:
            self.greylist_seen.add(key)
            return s.get("greylist_reply", [451, "4.7.1 Greylisted, try again later"])
        if key in self.listed:
            return self.listed[key]
        if s.get("catch_all"):
            return [250, "2.1.5 OK"]
        return s.get("default_recipient", [550, "5.1.1 No such user"])

    def default_reply(self, verb, tls_active):
        caps = [c for c in self.scenario.get("capabilities", [])
                if not (tls_active and c.upper() == "STARTTLS")]
        if verb == "EHLO":
            return [250, ["scripted.test greets you"] + caps]
        if verb == "STARTTLS":
            if "STARTTLS" in [c.upper() for c in caps] and not tls_active:
                return [220, "2.0.0 Ready to start TLS"]
            return [502, "5.5.1 STARTTLS not available"]
        return {
            "HELO": [250, "scripted.test"],
            "MAIL": [250, "2.1.0 OK"],
            "RSET": [250, "2.0.0 OK"],
            "NOOP": [250, "2.0.0 OK"],
            "QUIT": [221, "2.0.0 Bye"],
            "DATA": [554, "5.5.1 No DATA for probes"],
        }.get(verb, [500, "5.5.2 Unknown command"])

    def reply_for(self, verb, line, tls_active):
        if verb == "RCPT":
            start, end = line.find("<"), line.rfind(">")
            return self.recipient_reply(line[start + 1:end] if 0 <= start < end else "")
        return self.scenario.get("commands", {}).get(verb) or self.default_reply(verb, tls_active)

    async def handle(self, reader, writer):
        conn = self.next_conn
        self.next_conn += 1
        peer = writer.get_extra_info("peername")
        self.transcript.log(conn, "open", f"{peer[0]}:{peer[1]}")
        closed_logged = False
        try:
            closed_logged = await self.converse(conn, reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError, OSError):
            pass
        finally:
            if not closed_logged:
                self.transcript.log(conn, "close", "")
            try:
                writer.close()
            except Exception:
                pass

    async def send(self, conn, writer, spec):
        data, close = render(spec)
        for line in data.decode("utf-8", "replace").splitlines():
            self.transcript.log(conn, "S", line)
        writer.write(data)
        await writer.drain()
        return close

    async def wait_for_eof(self, conn, reader):
        # A tarpit still notices the client hanging up (and logs what it sent).
        while True:
            line = await reader.readline()
            if not line:
                return
            self.transcript.log(conn, "C", line.decode("utf-8", "replace").rstrip("\r\n"))

    async def greet(self, conn, writer):
        """Sends the banner; False when it closes the connection."""
        s = self.scenario
        banner_delay = s.get("banner_delay_ms", 0)
        if banner_delay:
            await asyncio.sleep(banner_delay / 1000)
        return not await self.send(conn, writer, s.get("banner", [220, "scripted ESMTP"]))

    async def read_command(self, conn, reader):
        """(line, verb), or None at end of input."""
        raw = await reader.readline()
        if not raw:
            return None
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        self.transcript.log(conn, "C", line)
        return line, line.split(" ", 1)[0].split(":", 1)[0].upper()

    async def begin_tls(self, conn, writer, verb, spec):
        if verb == "STARTTLS" and render(spec)[0].startswith(b"220") and self.tls_context:
            await writer.start_tls(self.tls_context)
            self.transcript.log(conn, "tls", "established")
            return True
        return False

    async def converse(self, conn, reader, writer):
        if self.scenario.get("banner_delay_ms", 0) < 0:
            await self.wait_for_eof(conn, reader)
            return False
        if not await self.greet(conn, writer):
            return False
        if self.arrival_timing:
            return await self.converse_by_arrival(conn, reader, writer)
        tls_active = False
        while True:
            command = await self.read_command(conn, reader)
            if command is None:
                return False
            line, verb = command
            delay = self.delay_for(verb)
            if delay < 0:
                await self.wait_for_eof(conn, reader)
                return False
            if delay:
                await asyncio.sleep(delay / 1000)
            spec = self.reply_for(verb, line, tls_active)
            if verb == "QUIT":
                # Logged before the reply: once the client has the 221 the
                # connection counts as gone.
                self.transcript.log(conn, "close", "quit")
                await self.send(conn, writer, spec)
                return True
            if await self.send(conn, writer, spec):
                return False
            tls_active = await self.begin_tls(conn, writer, verb, spec) or tls_active

    async def converse_by_arrival(self, conn, reader, writer):
        """reply_timing "arrival": commands are read as they come and each
        reply is due delays_ms after its command arrived; one writer task
        sends the replies in order."""
        loop = asyncio.get_running_loop()
        outbox = asyncio.Queue()
        sender = asyncio.ensure_future(self.send_when_due(conn, writer, outbox))
        tls_active = False
        try:
            while True:
                command = await self.read_command(conn, reader)
                if command is None:
                    return False
                arrived = loop.time()
                line, verb = command
                delay = self.delay_for(verb)
                if delay < 0:
                    outbox.put_nowait(None)  # replies already due still go out
                    await self.wait_for_eof(conn, reader)
                    return False
                spec = self.reply_for(verb, line, tls_active)
                # After these the dialogue cannot go on before the reply is out.
                blocking = verb in ("QUIT", "STARTTLS") or render(spec)[1]
                sent = loop.create_future() if blocking else None
                outbox.put_nowait((arrived + delay / 1000, verb, spec, sent))
                if not blocking:
                    continue
                if await sent:  # the reply closed the connection
                    return verb == "QUIT"
                tls_active = await self.begin_tls(conn, writer, verb, spec) or tls_active
        finally:
            sender.cancel()
            try:
                await sender
            except (asyncio.CancelledError, Exception):
                pass

    async def send_when_due(self, conn, writer, outbox):
        loop = asyncio.get_running_loop()
        while True:
            item = await outbox.get()
            if item is None:
                return
            due, verb, spec, sent = item
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                if verb == "QUIT":
                    self.transcript.log(conn, "close", "quit")
                close = await self.send(conn, writer, spec) or verb == "QUIT"
            except (ConnectionError, ssl.SSLError, OSError) as error:
                if sent and not sent.done():
                    sent.set_exception(error)
                return
            if sent and not sent.done():
                sent.set_result(close)
            if close:
                return


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--scenario", required=True)
    parser.add_argument("--transcript", required=True)
    parser.add_argument("--port-file", required=True)
    args = parser.parse_args()
    if not args.host.startswith("127."):
        sys.exit("scripted_smtp.py listens on loopback (127.0.0.0/8) only")
    with open(args.scenario, encoding="utf-8") as f:
        scenario = json.load(f)
    # Generated key material goes next to the transcript (the caller's temporary directory).
    workdir = os.path.dirname(os.path.abspath(args.transcript))
    capabilities = [c.upper() for c in scenario.get("capabilities", [])]
    tls_context = make_tls_context(scenario, workdir) if "STARTTLS" in capabilities else None
    server = Server(scenario, Transcript(args.transcript), tls_context)
    listener = await asyncio.start_server(server.handle, args.host, args.port, backlog=128)
    port = listener.sockets[0].getsockname()[1]
    temporary = args.port_file + ".tmp"
    with open(temporary, "w", encoding="utf-8") as f:
        f.write(str(port))
    os.replace(temporary, args.port_file)
    async with listener:
        await listener.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
