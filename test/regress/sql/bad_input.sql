-- Bad input never crashes or hangs: a clear verdict for each.
\pset null '(null)'
SELECT label, syntax_valid, score, verdict, issues
FROM (VALUES
  ('empty', ''),
  ('spaces', '   '),
  ('tab inside', E'jane\t@acme-widgets.com'),
  ('newline', E'jane@acme-widgets.com\n'),
  ('bell', E'ja\x07ne@acme-widgets.com'),
  ('DEL', E'ja\x7fne@acme-widgets.com'),
  ('zero width space', E'ja\u200bne@acme-widgets.com'),
  ('invalid IDN', 'jane@xn--a.com'),
  ('invalid IDN label', E'jane@\u2488.com'),
  ('only @', '@'),
  ('lone quote', '"@acme-widgets.com')
) AS t(label, email), LATERAL email_check_offline(email);

-- A 1 MB string: an answer at once, and the input comes back unchanged.
SELECT syntax_valid, score, verdict, length(email) AS email_length, issues
FROM email_check_offline(repeat('a', 1024 * 1024) || '@acme-widgets.com');
SELECT email_syntax_valid(repeat('a', 1024 * 1024)),
       email_normalize(repeat('b', 1024 * 1024) || '@x.com'),
       email_suggest(repeat('c', 1024 * 1024) || '@gmial.com') IS NOT NULL AS suggested;

-- An unknown depth is named in the error, at most its first 40 bytes (cut
-- on a character boundary), whatever the argument's size.
SELECT verify_email('jane@acme-widgets.com', repeat('deep', 25000));
SELECT count(*) FROM verify_emails(ARRAY['jane@acme-widgets.com'], repeat('ü', 50000));
SELECT verify_email_json('jane@acme-widgets.com', 'deeper');

-- The depth names come from the library, once: the job table's CHECK and
-- submit() read them, and submit() raises the same error as verify_email.
SELECT mailsentry.depth_names();
\set VERBOSITY terse
INSERT INTO mailsentry.job_queue (submitted_by, source, depth, total) VALUES ('x', 'y', 'deep', 0);
\set VERBOSITY default
SELECT mailsentry.submit(ARRAY['jane@acme-widgets.com'], 'deeper');
SELECT mailsentry.submit(ARRAY['jane@acme-widgets.com'], NULL);
