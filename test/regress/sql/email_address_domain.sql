-- The email_address domain and email_syntax_valid in CHECK constraints.
CREATE TABLE customers (
  id    serial PRIMARY KEY,
  email email_address NOT NULL
);
INSERT INTO customers (email) VALUES ('jane@acme-widgets.com'), ('JOHN@Example.org');
INSERT INTO customers (email) VALUES ('not an address');
INSERT INTO customers (email) VALUES ('jane@@acme-widgets.com');
SELECT id, email FROM customers ORDER BY id;

CREATE TABLE signups (
  email text CHECK (email_syntax_valid(email))
);
INSERT INTO signups VALUES ('jane@acme-widgets.com');
INSERT INTO signups VALUES ('jane@acme-widgets..com');
-- NULL passes a CHECK constraint (STRICT function); NOT NULL is the column's job.
INSERT INTO signups VALUES (NULL);
SELECT count(*) FROM signups;

-- A generated column with the normalised form.
CREATE TABLE contacts (
  email text NOT NULL,
  email_normalized text GENERATED ALWAYS AS (email_normalize(email)) STORED
);
INSERT INTO contacts (email) VALUES ('Jane@ACME-Widgets.COM'), ('bad address');
SELECT * FROM contacts ORDER BY email;

DROP TABLE customers, signups, contacts;
