// The values of the mailsentry.* settings as plain data (PostgreSQL's GUC
// machinery owns the strings, and any may be NULL). Per-verification ones
// (timeouts, retry delay, queue wait) are read by the backend and travel
// with each request; server-wide ones are read by the worker and apply
// after a reload.
#pragma once

namespace mailsentry {

struct Settings {
  // Server-wide (postgresql.conf; restart or reload).
  bool enabled;
  char* database;
  int queue_size;
  int queue_slots_per_backend;  // superuser-set caps on the shared queue
  int queue_slots_per_role;
  char* dns_servers;
  int dns_timeout_ms;
  int dns_default_ttl_s;
  int smtp_port;
  char* helo_name;
  char* mail_from;
  int starttls;  // StartTlsMode
  int max_connections_per_mx;
  int max_connections;
  int max_recipients_per_session;
  int max_rejections_per_session;
  int idle_session_timeout_ms;
  int breaker_failures;
  int breaker_cooldown_ms;
  bool allow_private_networks;
  char* source_addresses;
  bool log_smtp_transcripts;
  bool domain_age;
  char* rdap_bootstrap_file;
  char* whois_server;
  int rdap_timeout_ms;
  int rdap_min_interval_ms;
  int domain_age_grace_ms;
  int registry_breaker_cooldown_ms;
  bool rdap_verify_tls;
  char* dnsbl_zones;
  int cache_ttl_s;
  int cache_ttl_inconclusive_s;
  int cache_ttl_dead_domain_s;
  char* dns_canary_domains;
  int reprobe_delay_s;
  int reprobe_attempts;
  int job_concurrency;
  int cache_purge_interval_s;
  int max_verify_timeout_ms;  // caps verify_timeout_ms (see effective_verify_timeout_ms)
  // Per call (SET in a session applies to its own calls); smtp_timeouts and
  // greylist_retry_delay_ms are superuser-only: they hold shared MX sessions.
  char* smtp_timeouts;
  int greylist_retry_delay_ms;
  int queue_wait_timeout_ms;
  int verify_timeout_ms;
  char* debug_fail_point;
};

}  // namespace mailsentry
