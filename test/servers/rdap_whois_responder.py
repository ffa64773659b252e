#!/usr/bin/env python3
"""Local RDAP (HTTP and HTTPS) and WHOIS responder for mailsentry's tests.

Listens on 127.0.0.1 only, on ports the OS picks, and writes them as JSON to
--ready once every server accepts connections:
  {"http": P, "https": P, "whois": P, "silent": P, "closed": P}
"silent" accepts connections and never answers (for timeout tests);
"closed" is bound but not listening, so connections to it are refused.

--fixtures is a JSON file:
  {"rdap":  {"<domain>": {"status": 200, "body": {...}}
                          | {"status": 200, "raw": "text"}
                          | {"chunked": true, "body": {...}}
                          | {"oversize": N}},
           (any RDAP entry may add "delay_ms": N to answer after N ms)
   "whois": {"<query>": "answer text"}}
RDAP answers GET .../domain/<name> (any prefix); unknown names get 404.
Every request is appended to --log as one JSON object per line with a
"t" (time.time()) timestamp, so tests can check rate limiting and caching.
"""
import argparse
import http.server
import json
import os
import re
import socket
import socketserver
import ssl
import subprocess
import sys
import threading
import time

LOG_LOCK = threading.Lock()


def log_request(path, entry):
    entry["t"] = time.time()
    with LOG_LOCK, open(path, "a", encoding="utf-8") as log:
        log.write(json.dumps(entry) + "\n")


def make_rdap_handler(service, fixtures, log_path):
    class RdapHandler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # keep test output quiet
            pass

        def do_GET(self):
            match = re.search(r"/domain/([^/?#]+)$", self.path)
            domain = match.group(1).lower() if match else ""
            log_request(log_path, {"service": service, "path": self.path, "domain": domain,
                                   "host": self.headers.get("Host", "")})
            entry = fixtures.get("rdap", {}).get(domain)
            if entry is not None and "delay_ms" in entry:
                time.sleep(int(entry["delay_ms"]) / 1000)  # a slow registry
            try:
                if entry is None:
                    self.send_body(404, json.dumps({"errorCode": 404, "title": "Not Found"}))
                elif "oversize" in entry:
                    self.send_oversize(int(entry["oversize"]))
                elif entry.get("chunked"):
                    self.send_chunked(int(entry.get("status", 200)), json.dumps(entry["body"]))
                else:
                    body = entry["raw"] if "raw" in entry else json.dumps(entry.get("body", {}))
                    self.send_body(int(entry.get("status", 200)), body)
            except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                pass  # the client gave up (size limit, timeout): expected in some tests

        def send_headers(self, status, extra):
            self.send_response(status)
            self.send_header("Content-Type", "application/rdap+json")
            self.send_header("Connection", "close")
            for name, value in extra:
                self.send_header(name, value)
            self.end_headers()

        def send_body(self, status, text):
            data = text.encode("utf-8")
            self.send_headers(status, [("Content-Length", str(len(data)))])
            self.wfile.write(data)

        def send_chunked(self, status, text):
            data = text.encode("utf-8")
            self.send_headers(status, [("Transfer-Encoding", "chunked")])
            third = max(1, len(data) // 3)
            for start in range(0, len(data), third):
                piece = data[start:start + third]
                self.wfile.write(b"%x;ext=1\r\n" % len(piece) + piece + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")

        def send_oversize(self, size):
            self.send_headers(200, [("Content-Length", str(size))])
            block = b" " * 65536
            sent = 0
            while sent < size:
                self.wfile.write(block[:size - sent])
                sent += len(block)

    return RdapHandler


class ThreadingHttpServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


class TlsHttpServer(ThreadingHttpServer):
    """Handshakes in the connection's thread, so a refused handshake hurts no one."""

    def __init__(self, address, handler, context):
        self.tls_context = context
        super().__init__(address, handler)

    def finish_request(self, request, client_address):
        try:
            request = self.tls_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        super().finish_request(request, client_address)


def make_whois_handler(fixtures, log_path):
    class WhoisHandler(socketserver.StreamRequestHandler):
        def handle(self):
            query = self.rfile.readline(1024).decode("utf-8", "replace").strip()
            if not query:
                return  # a readiness probe, not a query
            log_request(log_path, {"service": "whois", "query": query})
            answer = fixtures.get("whois", {}).get(query.lower(), "No match for \"%s\".\r\n" % query)
            try:
                self.wfile.write(answer.encode("utf-8"))
            except (BrokenPipeError, ConnectionResetError):
                pass

    return WhoisHandler


class ThreadingTcpServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True


def serve_silently(listener, held):
    while True:
        connection, _ = listener.accept()
        held.append(connection)  # keep it open, say nothing


def make_certificate(workdir):
    cert = os.path.join(workdir, "cert.pem")
    key = os.path.join(workdir, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "2", "-subj", "/CN=rdap-tls.test",
                    "-addext", "subjectAltName=DNS:rdap-tls.test"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--fixtures", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--ready", required=True)
    parser.add_argument("--workdir", required=True)
    args = parser.parse_args()
    with open(args.fixtures, encoding="utf-8") as f:
        fixtures = json.load(f)

    cert, key = make_certificate(args.workdir)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)

    http_server = ThreadingHttpServer(("127.0.0.1", 0), make_rdap_handler("http", fixtures, args.log))
    https_server = TlsHttpServer(("127.0.0.1", 0), make_rdap_handler("https", fixtures, args.log),
                                 context)
    whois_server = ThreadingTcpServer(("127.0.0.1", 0), make_whois_handler(fixtures, args.log))
    silent = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    held = []
    # Bound, never listening: the kernel refuses connections, and holding the
    # port keeps anyone else from taking it during the test.
    closed = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    closed.bind(("127.0.0.1", 0))

    for server in (http_server, https_server, whois_server):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    threading.Thread(target=serve_silently, args=(silent, held), daemon=True).start()

    ports = {"http": http_server.server_address[1], "https": https_server.server_address[1],
             "whois": whois_server.server_address[1], "silent": silent.getsockname()[1],
             "closed": closed.getsockname()[1]}
    temporary = args.ready + ".tmp"
    with open(temporary, "w", encoding="utf-8") as f:
        json.dump(ports, f)
    os.rename(temporary, args.ready)  # atomic: the test never reads half a file
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
