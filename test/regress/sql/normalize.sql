-- email_normalize: lower-cased A-label domain, local part kept as written.
\pset null '(null)'
SELECT address, email_normalize(address) AS normalized
FROM (VALUES
  ('Jane.Doe@ACME.com'),
  ('jane@Bücher.Example'),
  ('JANE@例子.广告'),
  ('"Jane Doe"@Example.ORG'),
  ('user@[IPv6:2001:DB8::1]'),
  ('not an address'),
  ('')
) AS t(address);

SELECT email_normalize(NULL) IS NULL AS null_gives_null;
SELECT provolatile FROM pg_proc WHERE proname = 'email_normalize';
