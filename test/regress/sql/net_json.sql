-- verify_email_json: the same result, nested.
SELECT it.wait_for_worker() AS worker_running;
SELECT jsonb_pretty(v - 'checked_at' - 'response_time_ms') AS result,
       jsonb_typeof(v->'response_time_ms') AS timed
FROM verify_email_json('alice@postfix-mail.net', refresh => true) AS v;
SELECT v->'checks'->'smtp'->'valid' AS smtp_valid, v->>'verdict' AS verdict
FROM verify_email_json('zed@postfix-mail.net') AS v;
