#!/usr/bin/env python3
"""The baseline for the verify_email overhead benchmark: the same RCPT probe
made directly over a persistent SMTP session (RSET, MAIL FROM, RCPT TO per
address), timed per address. Loopback only. Prints the median in ms."""

import smtplib
import statistics
import sys
import time


def main():
    host, count = sys.argv[1], int(sys.argv[2])
    if not host.startswith("127."):
        raise SystemExit("loopback only")
    users = ["alice", "bob", "carol"]
    timings = []
    session = None
    for i in range(count):
        # A new session every 50 recipients, as mailsentry's default
        # max_recipients_per_session (Postfix counts RSETs as junk commands
        # and drops a session after 100); connecting is not timed.
        if i % 50 == 0:
            if session:
                session.quit()
            session = smtplib.SMTP(host, 25, local_hostname="mailsentry.test", timeout=5)
            session.ehlo()
        started = time.perf_counter()
        session.rset()
        session.mail("probe@mailsentry-test.org")
        code, _ = session.rcpt(f"{users[i % 3]}@postfix-mail.net")
        timings.append((time.perf_counter() - started) * 1000)
        if code != 250:
            raise SystemExit(f"unexpected RCPT reply {code}")
    session.quit()
    print(f"{statistics.median(timings):.3f}")


if __name__ == "__main__":
    main()
