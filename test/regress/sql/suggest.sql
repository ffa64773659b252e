-- email_suggest: corrections for misspelled popular domains and TLDs.
SELECT address, email_suggest(address) AS suggestion
FROM (VALUES
  ('jane@gmial.com'),
  ('jane@hotmial.con'),
  ('jane@yahoo.cmo'),
  ('jane@x.con'),
  ('jane@x.com.uk'),
  ('jane@gmail.co'),
  -- correct or unrelated domains: nothing to suggest
  ('jane@gmail.com'),
  ('jane@acme-widgets.com'),
  -- one real public suffix is never "corrected" into another
  ('jane@startup.io'),
  ('jane@acme.co'),
  ('jane@acme.dev'),
  ('jane@proton.me'),
  ('jane@hey.com'),
  ('jane@acme.co.za'),
  ('no at sign')
) AS t(address);

SELECT email_suggest(NULL) IS NULL AS null_gives_null;
