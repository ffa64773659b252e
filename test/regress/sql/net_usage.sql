-- The ways users call mailsentry (README, "Usage"), end to end.
\pset null '(null)'
SELECT it.wait_for_worker() AS worker_running;
SELECT mailsentry.purge_cache() >= 0 AS emptied;

-- 1. Network-free syntax checks in a CHECK constraint or a column type.
CREATE TABLE it.customers (
  id      int PRIMARY KEY,
  email   text NOT NULL CHECK (email_syntax_valid(email)),
  verdict text,
  score   int
);
CREATE TABLE it.leads (email email_address);
INSERT INTO it.customers (id, email) VALUES (99, 'not an address');
INSERT INTO it.leads VALUES ('bad@@example.org');
INSERT INTO it.leads VALUES ('ok@example.org');
INSERT INTO it.customers (id, email) VALUES
  (1, 'ed@exists-mail.net'), (2, 'zed@exists-mail.net'), (3, 'alice@postfix-mail.net'),
  (4, 'x@nxdomain-mail.net'), (5, 'ED@exists-mail.net');

-- 2. verify_email() in a query.
SELECT c.id, v.verdict, v.smtp_valid
FROM it.customers c CROSS JOIN LATERAL verify_email(c.email) v
ORDER BY c.id;

-- 3. A trigger that fills verdict columns on insert and on a changed address.
CREATE TABLE it.newsletter (email text, verdict text, score int);
CREATE FUNCTION it.fill_verdict() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  SELECT v.verdict, v.score INTO NEW.verdict, NEW.score FROM verify_email(NEW.email) v;
  RETURN NEW;
END $$;
CREATE TRIGGER newsletter_verdict BEFORE INSERT OR UPDATE OF email ON it.newsletter
  FOR EACH ROW EXECUTE FUNCTION it.fill_verdict();
INSERT INTO it.newsletter (email) VALUES ('alice@postfix-mail.net'), ('zed@exists-mail.net');
SELECT email, verdict, score > 50 AS good_score FROM it.newsletter ORDER BY email;
UPDATE it.newsletter SET email = 'ed@exists-mail.net' WHERE email = 'zed@exists-mail.net';
SELECT email, verdict FROM it.newsletter ORDER BY email;

-- 4. A bulk UPDATE from verify_emails().
UPDATE it.customers c SET verdict = v.verdict, score = v.score
FROM verify_emails(ARRAY(SELECT email FROM it.customers)) v
WHERE v.email = c.email;
SELECT id, email, verdict FROM it.customers ORDER BY id;

-- 5. The job flow, then an UPDATE from the cache.
UPDATE it.customers SET verdict = NULL, score = NULL;
SELECT mailsentry.purge_cache() > 0 AS emptied;
SELECT mailsentry.submit('it.customers'::regclass, 'email') AS job \gset
SELECT it.wait_for_job(:job);
SELECT total, done FROM mailsentry.jobs WHERE job_id = :job;
UPDATE it.customers c SET verdict = v.verdict, score = v.score
FROM mailsentry.verdicts v
WHERE v.address = email_normalize(c.email);
SELECT id, email, verdict FROM it.customers ORDER BY id;
-- The same straight from mailsentry.cache.
UPDATE it.customers c SET verdict = v.verdict
FROM mailsentry.cache k CROSS JOIN LATERAL mailsentry.cached_result(k.address) v
WHERE k.address = email_normalize(c.email);
SELECT count(*) FILTER (WHERE verdict IS NOT NULL) AS with_verdict FROM it.customers;

-- 6. verify_email() row by row over many rows: each call waits for its own
-- answer. Once a statement has made 100 network verifications, one NOTICE
-- (with a HINT naming verify_emails and mailsentry.submit), once per statement.
CREATE TABLE it.many (email text, verdict text);
INSERT INTO it.many SELECT 'row' || i || '@exists-mail.net', NULL FROM generate_series(1, 150) i;
UPDATE it.many SET verdict = (verify_email(email)).verdict;
SELECT count(*) AS rows, count(*) FILTER (WHERE verdict = 'invalid') AS invalid FROM it.many;
-- The next statement counts afresh: 99 network verifications say nothing.
CREATE TABLE it.fewer AS
  SELECT 'few' || i || '@exists-mail.net' AS email FROM generate_series(1, 99) i;
SELECT count(*) AS verified FROM it.fewer f CROSS JOIN LATERAL verify_email(f.email) v;
-- Cached answers are not network verifications: no NOTICE.
UPDATE it.many SET verdict = (verify_email(email)).verdict;
-- A function looping over rows is one statement too.
CREATE FUNCTION it.verify_each() RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  n int := 0;
  r record;
BEGIN
  FOR r IN SELECT 'loop' || i || '@exists-mail.net' AS email FROM generate_series(1, 101) i LOOP
    PERFORM verify_email(r.email);
    n := n + 1;
  END LOOP;
  RETURN n;
END $$;
SELECT it.verify_each() AS verified;
