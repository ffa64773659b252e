-- email_syntax_valid: the RFC 5321 / RFC 6531 envelope mailbox check.
CREATE EXTENSION mailsentry;

SELECT address, email_syntax_valid(address) AS valid
FROM (VALUES
  ('jane@acme.com'),
  ('jane.doe+news@acme.co.uk'),
  ('"john doe"@example.org'),
  ('user@[192.0.2.1]'),
  ('user@[IPv6:2001:db8::1]'),
  ('δοκιμή@παράδειγμα.δοκιμή'),
  ('用户@例子.广告'),
  ('jane@xn--bcher-kva.example'),
  ('a@b.co'),
  (repeat('a', 64) || '@acme.com'),
  (repeat('a', 65) || '@acme.com'),
  ('jane@' || repeat('a', 63) || '.com'),
  ('jane@' || repeat('a', 64) || '.com'),
  ('jane@-acme.com'),
  ('jane@acme-.com'),
  ('jane..doe@acme.com'),
  ('.jane@acme.com'),
  ('jane.@acme.com'),
  ('jane@acme..com'),
  ('jane@@acme.com'),
  ('jane'),
  ('@acme.com'),
  ('jane@'),
  ('Jane Doe <jane@acme.com>'),
  ('jane(comment)@acme.com'),
  ('jane @acme.com'),
  (' jane@acme.com'),
  ('jane@acme.com ')
) AS t(address);

-- STRICT: NULL in, NULL out.
SELECT email_syntax_valid(NULL) IS NULL AS null_gives_null;

-- The whole address is at most 254 octets (RFC 5321 path limit minus <>).
SELECT email_syntax_valid('a@' || repeat('b.', 125) || 'co') AS address_254,
       email_syntax_valid('ab@' || repeat('b.', 125) || 'co') AS address_255;

-- The top-level label is alphabetic or an A-label: not all digits, no hyphen.
SELECT address, email_syntax_valid(address) AS valid
FROM (VALUES
  ('jane@acme.123'),
  ('jane@1.2.3.4'),
  ('jane@acme.c-om'),
  ('jane@acme.xn--p1ai'),
  ('jane@123.com')
) AS t(address);

-- IMMUTABLE STRICT PARALLEL SAFE, as a CHECK constraint needs.
SELECT provolatile, proisstrict, proparallel FROM pg_proc
WHERE proname = 'email_syntax_valid';
