-- MX lookups against dnsmasq: preference order, null MX, implicit MX, NXDOMAIN.
\pset null '(null)'
SELECT it.wait_for_worker() AS worker_running;

SELECT email, mx_found, mx_records, smtp_valid, score, warning, issues
FROM (VALUES ('bob@implicit-mail.net'), ('x@nullmx-mail.net'), ('x@nomail-mail.net'),
             ('x@no-such-domain-mail.net')) AS t(addr),
     LATERAL verify_email(t.addr) v
ORDER BY email;
-- A domain with several MX records lists them by preference.
SELECT mx_records FROM verify_email('alice@twomx-mail.net');
