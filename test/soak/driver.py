#!/usr/bin/env python3
"""The soak test's load: SESSIONS concurrent sessions calling verify_email /
verify_emails for DURATION seconds, then the checks that need SQL.

Run by test/soak/soak.sh (which starts the servers and the cluster and
disturbs them meanwhile); not meant to be run alone.

Each session has its own connection and loops until the deadline: a single
verify_email (most calls), a verify_emails over 2-20 addresses, or a
verify_email(..., refresh => true) of an address verified before. Every call
must end with a row per address (a verdict) or an error; errors are counted
by kind:
  worker_not_running  "the background worker is not running" (the worker
                      was stopped and its restart had not connected yet)
  queue_full          "the request queue stayed full" (SQLSTATE 53400)
Any other error (a lost connection: a backend crash or a postmaster
restart; anything unexpected) fails the soak, and so does a call that takes
longer than BOUND seconds (statement_timeout = BOUND in every session; a
call the server does not end by BOUND + 15 s is cancelled from here and
counts as a hang too).

After the deadline and once every session has finished:
  - mailsentry.stats must show in_flight = 0 and queued = 0 within
    SETTLE seconds;
  - every finished verdict (a row returned to a caller whose
    verification_level is not 'estimated') must be in mailsentry.cache,
    under its normalized address.

Prints figures (calls, rows, errors by kind, latency p50/p99/max) and a
final JSON line "RESULT {...}" with "failures": a list of reasons (empty: the
soak passed). Exit status 0 when it passed, 1 otherwise.
"""
import argparse
import collections
import json
import random
import sys
import threading
import time

import psycopg2

ALLOWED = {
    "worker_not_running": "background worker is not running",
    "queue_full": "the request queue stayed full",
}


def classify(exc):
    """Returns the kind of an error: an ALLOWED key, or something else."""
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    code = getattr(exc, "pgcode", None)
    for kind, text in ALLOWED.items():
        if text in message:
            return kind, message
    if code == "57014":
        return "hang_statement_timeout", message
    if isinstance(exc, psycopg2.OperationalError) and code is None:
        return "connection_lost", message
    return "unexpected", f"{code or '-'}: {message}"


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.calls = collections.Counter()       # by function
        self.rows = 0
        self.levels = collections.Counter()
        self.estimated_warnings = collections.Counter()  # first warning of estimated rows
        self.verdicts = collections.Counter()
        self.cached_rows = 0
        self.errors = collections.Counter()      # by kind
        self.error_samples = {}                  # kind -> first messages
        self.latencies = []                      # seconds, every call
        self.finished = set()                    # normalized addresses of non-estimated rows
        self.verified = []                       # addresses verified so far (for refresh calls)
        self.timeline = collections.Counter()    # second -> errors in that second
        self.failures = []


def percentile(values, p):
    if not values:
        return 0.0
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, int(round(p / 100.0 * (len(ordered) - 1)))))
    return ordered[k]


def connect(args):
    conn = psycopg2.connect(host=args.host, port=args.port, dbname=args.dbname,
                            user=args.user, application_name="mailsentry-soak")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SET statement_timeout = %s", (f"{args.bound}s",))
    return conn


class Addresses:
    """The address space: existing mailboxes, unknown ones, dead domains."""

    def __init__(self, path, rng):
        self.exist, self.unknown_domains, self.dead = [], [], []
        with open(path, encoding="utf-8") as f:
            spec = json.load(f)
        self.exist = spec["mailboxes"]
        self.domains = spec["domains"]
        self.dead = spec["dead_domains"]
        self.rng = rng
        self.names = ["anna", "bruno", "carla", "david", "elena", "felix", "greta", "hugo",
                      "irene", "jonas"]

    def one(self):
        r = self.rng.random()
        if r < 0.55:
            return self.rng.choice(self.exist)            # 250 at Postfix
        if r < 0.90:                                      # 550 5.1.1 at Postfix
            return (f"{self.rng.choice(self.names)}.x{self.rng.randrange(10**7)}"
                    f"@{self.rng.choice(self.domains)}")
        if r < 0.95:                                      # NXDOMAIN, the domain seen before
            return f"{self.rng.choice(self.names)}.{self.rng.randrange(10**6)}@{self.rng.choice(self.dead)}"
        # NXDOMAIN at a domain never seen: always a fresh DNS lookup
        return f"{self.rng.choice(self.names)}.{self.rng.randrange(10**6)}@gone-{self.rng.randrange(10**9)}.net"


def session(index, args, stats, deadline, running, addresses_path):
    rng = random.Random(args.seed * 1000 + index)
    addresses = Addresses(addresses_path, rng)
    try:
        conn = connect(args)
    except Exception as exc:  # noqa: BLE001
        with stats.lock:
            stats.failures.append(f"session {index} could not connect: {exc}")
        return
    while time.monotonic() < deadline:
        r = rng.random()
        refresh = False
        if r < 0.70:
            func, emails = "verify_email", [addresses.one()]
        elif r < 0.90:
            func, emails = "verify_emails", [addresses.one() for _ in range(rng.randint(2, 20))]
        else:
            func = "verify_email(refresh)"
            with stats.lock:
                known = rng.choice(stats.verified) if stats.verified else None
            emails, refresh = [known or addresses.one()], True
        start = time.monotonic()
        running[index] = (start, conn, func)
        rows, error = None, None
        try:
            with conn.cursor() as cur:
                if func == "verify_emails":
                    cur.execute("SELECT email, normalized, verdict, verification_level, cached, warning"
                                " FROM verify_emails(%s)", (emails,))
                else:
                    cur.execute("SELECT email, normalized, verdict, verification_level, cached, warning"
                                " FROM verify_email(%s, refresh => %s)", (emails[0], refresh))
                rows = cur.fetchall()
        except Exception as exc:  # noqa: BLE001
            error = exc
        end = time.monotonic()
        running[index] = None
        with stats.lock:
            stats.calls[func] += 1
            stats.latencies.append(end - start)
            if error is not None:
                kind, message = classify(error)
                stats.errors[kind] += 1
                stats.timeline[int(end - args.t0)] += 1
                samples = stats.error_samples.setdefault(kind, [])
                if len(samples) < 3:
                    samples.append(message)
                if kind not in ALLOWED:
                    stats.failures.append(f"{func} {emails[:3]} ended with {kind}: {message}"
                                          f" after {end - start:.1f} s")
            else:
                got = {row[0] for row in rows}
                if got != set(emails):
                    stats.failures.append(f"{func} returned rows for {len(got)} of {len(set(emails))}"
                                          f" addresses ({sorted(set(emails) - got)[:3]} missing)")
                for email, normalized, verdict, level, cached, warning in rows:
                    stats.rows += 1
                    stats.levels[level] += 1
                    stats.verdicts[verdict] += 1
                    stats.cached_rows += bool(cached)
                    if level != "estimated" and normalized:
                        stats.finished.add(normalized)
                    elif level == "estimated":
                        first = (warning or "no warning").split("; ")[0]
                        stats.estimated_warnings[("cached: " if cached else "") + first] += 1
                    if len(stats.verified) < 20000:
                        stats.verified.append(email)
        if error is not None and classify(error)[0] in ("connection_lost",):
            try:
                conn.close()
            except Exception:  # noqa: BLE001
                pass
            try:
                conn = connect(args)
            except Exception as exc:  # noqa: BLE001
                with stats.lock:
                    stats.failures.append(f"session {index} could not reconnect: {exc}")
                return
    conn.close()


def watchdog(args, stats, running, stop):
    """Cancels a call the server has not ended BOUND + 15 s after it began."""
    cancelled = set()
    while not stop.is_set():
        now = time.monotonic()
        for index, entry in list(running.items()):
            if entry is None:
                continue
            start, conn, func = entry
            if now - start > args.bound + 15 and (index, start) not in cancelled:
                cancelled.add((index, start))
                with stats.lock:
                    stats.failures.append(f"session {index}: {func} still running after"
                                          f" {now - start:.0f} s (hang); cancelled")
                try:
                    conn.cancel()
                except Exception:  # noqa: BLE001
                    pass
        stop.wait(1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dbname", default="postgres")
    parser.add_argument("--user", default="postgres")
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--duration", type=float, required=True)
    parser.add_argument("--bound", type=int, default=60)
    parser.add_argument("--settle", type=float, default=5)
    parser.add_argument("--addresses", required=True)
    parser.add_argument("--seed", type=int, default=1)

    args = parser.parse_args()
    args.t0 = time.monotonic()

    stats = Stats()
    running = {}
    deadline = time.monotonic() + args.duration
    threads = [threading.Thread(target=session, args=(i, args, stats, deadline, running, args.addresses),
                                daemon=True) for i in range(args.sessions)]
    for i, t in enumerate(threads):
        running[i] = None
        t.start()
    stop = threading.Event()
    dog = threading.Thread(target=watchdog, args=(args, stats, running, stop), daemon=True)
    dog.start()
    for t in threads:
        # A session that is not back BOUND + 30 s after the deadline is stuck
        # beyond the watchdog's cancel.
        t.join(max(0.0, deadline - time.monotonic()) + args.bound + 30)
    stuck = [i for i, t in enumerate(threads) if t.is_alive()]
    stop.set()
    load_seconds = time.monotonic() - args.t0
    if stuck:
        stats.failures.append(f"{len(stuck)} sessions never returned (hang): {stuck[:10]}")

    # ---- Checks after the load ---------------------------------------------
    in_flight = queued = None
    settled_after, stats_row, finished, missing, cache_rows = 0.0, {}, sorted(stats.finished), [], None
    try:
        check = None
        for _ in range(30):  # a server that restarted may take a moment to accept connections
            try:
                check = connect(args)
                break
            except psycopg2.OperationalError as exc:
                last = exc
                time.sleep(1)
        if check is None:
            raise last
        cur = check.cursor()
        settle_start = time.monotonic()
        while True:
            cur.execute("SELECT in_flight, queued FROM mailsentry.stats")
            in_flight, queued = cur.fetchone()
            if (in_flight, queued) == (0, 0) or time.monotonic() - settle_start > args.settle:
                break
            time.sleep(0.1)
        settled_after = time.monotonic() - settle_start
        if (in_flight, queued) != (0, 0):
            stats.failures.append(f"mailsentry.stats still shows in_flight = {in_flight}, queued = {queued}"
                                  f" {args.settle:.0f} s after the last call ended")
        cur.execute("SELECT * FROM mailsentry.stats")
        stats_row = dict(zip([d[0] for d in cur.description], cur.fetchone()))
        cur.execute("SELECT a FROM unnest(%s::text[]) a"
                    " WHERE NOT EXISTS (SELECT 1 FROM mailsentry.cache c WHERE c.address = a)", (finished,))
        missing = [r[0] for r in cur.fetchall()]
        if missing:
            stats.failures.append(f"{len(missing)} of {len(finished)} finished verdicts are not in"
                                  f" mailsentry.cache (e.g. {missing[:5]})")
        cur.execute("SELECT count(*) FROM mailsentry.cache")
        cache_rows = cur.fetchone()[0]
        check.close()
    except Exception as exc:  # noqa: BLE001
        stats.failures.append(f"the checks after the load failed: {str(exc).strip()}")

    calls = sum(stats.calls.values())
    lat = stats.latencies
    errors_total = sum(stats.errors.values())
    print(f"sessions: {args.sessions}, duration: {args.duration:.0f} s (load phase {load_seconds:.1f} s"
          " including the drain)")
    print(f"calls: {calls} ({', '.join(f'{k} {v}' for k, v in sorted(stats.calls.items()))});"
          f" {calls / max(load_seconds, 1e-9):.1f} calls/s; rows: {stats.rows}"
          f" ({stats.cached_rows} from the cache)")
    print(f"verdicts: {dict(sorted(stats.verdicts.items()))}; levels: {dict(sorted(stats.levels.items()))}")
    if stats.estimated_warnings:
        print("estimated rows by first warning (top 6): " + "; ".join(
            f"{n} {w!r}" for w, n in stats.estimated_warnings.most_common(6)))
    print(f"errors: {errors_total}" + (f" ({', '.join(f'{k} {v}' for k, v in sorted(stats.errors.items()))})"
                                        if errors_total else ""))
    for kind, samples in sorted(stats.error_samples.items()):
        print(f"  {kind}: e.g. {samples[0]!r}")
    if stats.timeline:
        print("  errors by second of the run: "
              + ", ".join(f"{s}s:{n}" for s, n in sorted(stats.timeline.items())))
    print(f"latency: p50 {percentile(lat, 50) * 1000:.0f} ms, p99 {percentile(lat, 99) * 1000:.0f} ms,"
          f" max {max(lat, default=0) * 1000:.0f} ms")
    print(f"after the load: in_flight = {in_flight}, queued = {queued} after {settled_after:.1f} s;"
          f" {len(finished)} finished verdicts checked, {len(missing)} missing from the cache"
          f" ({cache_rows} cache rows)")
    print("mailsentry.stats: " + ", ".join(f"{k}={v}" for k, v in stats_row.items()))
    if calls == 0:
        stats.failures.append("no call was made")
    result = {
        "calls": calls, "calls_by_function": dict(stats.calls), "rows": stats.rows,
        "errors": dict(stats.errors), "p50_ms": round(percentile(lat, 50) * 1000),
        "p99_ms": round(percentile(lat, 99) * 1000), "max_ms": round(max(lat, default=0) * 1000),
        "finished_verdicts": len(finished), "missing_from_cache": len(missing),
        "failures": stats.failures[:20], "failure_count": len(stats.failures),
    }
    for failure in stats.failures[:20]:
        print(f"FAILURE: {failure}")
    print("RESULT " + json.dumps(result))
    return 0 if not stats.failures else 1


if __name__ == "__main__":
    sys.exit(main())
