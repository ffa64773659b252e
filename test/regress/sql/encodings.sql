-- Databases in other encodings: input is converted to UTF-8 for the checks
-- and results are converted back.
SELECT current_database() AS home_database \gset
CREATE DATABASE mailsentry_latin1 ENCODING 'LATIN1' TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C';
CREATE DATABASE mailsentry_sql_ascii ENCODING 'SQL_ASCII' TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C';

\c mailsentry_latin1
SET client_encoding = 'UTF8';
CREATE EXTENSION mailsentry;
SELECT email, email_syntax_valid(email) AS valid, email_normalize(email) AS normalized
FROM (VALUES ('jane@acme-widgets.com'), ('josé@acme-widgets.com'), ('jane@bücher.de'),
             ('Zoë@Café.COM')) AS t(email);
SELECT score, verdict, normalized, email FROM email_check_offline('josé@gmial.com');
SELECT email_suggest('josé@gmial.com');

\c mailsentry_sql_ascii
SET client_encoding = 'SQL_ASCII';
CREATE EXTENSION mailsentry;
-- Valid UTF-8 bytes are checked as UTF-8.
SELECT email_syntax_valid(convert_from(convert_to('josé@acme-widgets.com', 'UTF8'), 'SQL_ASCII'));
-- Bytes that are not UTF-8 are an invalid address (and get no suggestion), not an error.
SELECT email_syntax_valid(convert_from('\x6a6fe9406163652e636f6d'::bytea, 'SQL_ASCII')) AS latin1_bytes;
SELECT syntax_valid, score, verdict, issues
FROM email_check_offline(convert_from('\x6a6fe9406163652e636f6d'::bytea, 'SQL_ASCII'));
SELECT email_suggest(convert_from('\x6a6fe940676d69616c2e636f6d'::bytea, 'SQL_ASCII')) AS suggestion;

\c :home_database
DROP DATABASE mailsentry_latin1;
DROP DATABASE mailsentry_sql_ascii;
