#include "base/settings.hpp"

#include "base/postgres_headers.hpp"

extern "C" {
#include "miscadmin.h"
#include "utils/guc.h"
}

#include <algorithm>
#include <cstdio>
#include <string>
#include <string_view>

#include "base/guard.hpp"
#include "net/smtp_prober.hpp"
#include "verdict/settings_checks.hpp"

namespace mailsentry::pg {

Settings settings;

namespace {

const struct config_enum_entry kStartTlsOptions[] = {
    {"off", static_cast<int>(StartTlsMode::off), false},
    {"opportunistic", static_cast<int>(StartTlsMode::opportunistic), false},
    {"required", static_cast<int>(StartTlsMode::required), false},
    {nullptr, 0, false}};

// Every string setting: a CR or LF would end an SMTP command or a log line
// early, and no setting needs any control character.
bool printable(const char* value) {
  if (value == nullptr) return true;
  for (const char* p = value; *p != '\0'; ++p) {
    const unsigned char c = static_cast<unsigned char>(*p);
    if (c < 0x20 || c == 0x7f) {
      GUC_check_errdetail("The value has a control character (byte 0x%02X at position %d).", c,
                          static_cast<int>(p - value) + 1);
      GUC_check_errhint("Settings of mailsentry take printable text only.");
      return false;
    }
  }
  return true;
}

bool check_printable(char** newval, void**, GucSource) { return printable(*newval); }

// The verdict of a core check, computed guarded and reported to the GUC
// machinery after the guard (`hint` may be null).
bool accepted(const char* setting, const char* value, std::string (*problem)(std::string_view),
              const char* hint) {
  if (!printable(value)) return false;
  char bad[320] = "";
  const GuardResult result = run_guarded(
      setting, [&] { snprintf(bad, sizeof bad, "%s", problem(value ? value : "").c_str()); });
  if (result.failed) snprintf(bad, sizeof bad, "%s", result.message);
  if (bad[0] == '\0') return true;
  GUC_check_errdetail("%s", bad);
  if (hint != nullptr) GUC_check_errhint("%s", hint);
  return false;
}

bool check_helo_name(char** newval, void**, GucSource) {
  return accepted("mailsentry.helo_name", *newval, helo_name_problem,
                  "Use this server's public host name, e.g. 'mx1.example.com', or an address "
                  "literal, e.g. '[192.0.2.1]'.");
}

bool check_mail_from(char** newval, void**, GucSource) {
  return accepted("mailsentry.mail_from", *newval, mail_from_problem,
                  "Give the bare address, e.g. 'probe@example.com', or '' for the null "
                  "reverse-path <>.");
}

bool check_dns_servers(char** newval, void**, GucSource) {
  return accepted("mailsentry.dns_servers", *newval, dns_servers_problem,
                  "Use host[:port],... with IP addresses, e.g. '127.0.0.53:5353'.");
}

bool check_source_addresses(char** newval, void**, GucSource) {
  return accepted("mailsentry.source_addresses", *newval, source_addresses_problem, nullptr);
}

bool check_smtp_timeouts(char** newval, void**, GucSource) {
  return accepted("mailsentry.smtp_timeouts", *newval, smtp_timeouts_problem, nullptr);
}

void define_string(const char* name, const char* description, char** variable,
                   const char* default_value, GucContext context,
                   GucStringCheckHook check = nullptr, int flags = 0) {
  DefineCustomStringVariable(name, description, nullptr, variable, default_value, context, flags,
                             check, nullptr, nullptr);
}

void define_int(const char* name, const char* description, int* variable, int default_value,
                int min, int max, GucContext context, int flags = 0) {
  DefineCustomIntVariable(name, description, nullptr, variable, default_value, min, max, context,
                          flags, nullptr, nullptr, nullptr);
}

void define_bool(const char* name, const char* description, bool* variable, bool default_value,
                 GucContext context) {
  DefineCustomBoolVariable(name, description, nullptr, variable, default_value, context, 0, nullptr,
                           nullptr, nullptr);
}

}  // namespace

void define_settings() {
  Settings& s = settings;
  // Server-wide.
  define_bool("mailsentry.enabled", "Runs the network checks (the background worker).", &s.enabled,
              true, PGC_SIGHUP);
  // Settings read at server start exist only when the library is preloaded
  // (PostgreSQL refuses to create them later); without it there is no worker.
  if (process_shared_preload_libraries_in_progress) {
    define_string("mailsentry.database",
                  "The database the worker connects to; the extension must be created there.",
                  &s.database, "postgres", PGC_POSTMASTER, check_printable);
    define_int("mailsentry.queue_size", "Requests that can wait for the worker at once.",
               &s.queue_size, 1024, 16, 65536, PGC_POSTMASTER);
  }
  // Fairness: no session, and no login role, can hold the whole queue.
  define_int("mailsentry.queue_slots_per_backend",
             "Requests one session can have in the request queue at once.",
             &s.queue_slots_per_backend, 256, 1, 65536, PGC_SUSET);
  define_int("mailsentry.queue_slots_per_role",
             "Requests the sessions of one login role can have in the request queue at once.",
             &s.queue_slots_per_role, 768, 1, 65536, PGC_SUSET);
  define_string("mailsentry.dns_servers",
                "DNS servers as host[:port],... (IP addresses); empty: the system resolver.",
                &s.dns_servers, "", PGC_SIGHUP, check_dns_servers);
  define_int("mailsentry.dns_timeout", "Timeout of one DNS try.", &s.dns_timeout_ms, 2000, 50,
             60000, PGC_SIGHUP, GUC_UNIT_MS);
  define_int("mailsentry.dns_default_ttl", "Cache time of DNS answers whose TTL is not known.",
             &s.dns_default_ttl_s, 3600, 0, 86400 * 7, PGC_SIGHUP, GUC_UNIT_S);
  define_int("mailsentry.smtp_port", "TCP port of the mail servers (25; tests use others).",
             &s.smtp_port, 25, 1, 65535, PGC_SIGHUP);
  define_string("mailsentry.helo_name", "The name sent in EHLO/HELO.", &s.helo_name, "localhost",
                PGC_SIGHUP, check_helo_name);
  define_string("mailsentry.mail_from", "The reverse-path of MAIL FROM; empty sends <>.",
                &s.mail_from, "", PGC_SIGHUP, check_mail_from);
  DefineCustomEnumVariable("mailsentry.starttls", "STARTTLS: off, opportunistic or required.",
                           nullptr, &s.starttls, static_cast<int>(StartTlsMode::opportunistic),
                           kStartTlsOptions, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
  define_int("mailsentry.max_connections_per_mx", "SMTP sessions at once per MX host.",
             &s.max_connections_per_mx, 2, 1, 100, PGC_SIGHUP);
  define_int("mailsentry.max_connections", "SMTP sessions at once in total.", &s.max_connections,
             64, 1, 10000, PGC_SIGHUP);
  define_int("mailsentry.max_recipients_per_session", "RCPT commands before a session is renewed.",
             &s.max_recipients_per_session, 50, 1, 1000, PGC_SIGHUP);
  define_int("mailsentry.max_rejections_per_session",
             "Rejected recipients before a session is renewed (MTAs punish more).",
             &s.max_rejections_per_session, 8, 1, 1000, PGC_SIGHUP);
  define_int("mailsentry.idle_session_timeout", "Idle SMTP sessions are closed after this.",
             &s.idle_session_timeout_ms, 5000, 0, 600000, PGC_SIGHUP, GUC_UNIT_MS);
  define_int("mailsentry.circuit_breaker_failures",
             "Consecutive timeouts or refusals that make an MX fail fast for a while.",
             &s.breaker_failures, 3, 1, 1000, PGC_SIGHUP);
  define_int("mailsentry.circuit_breaker_cooldown", "How long an MX fails fast.",
             &s.breaker_cooldown_ms, 60000, 0, 86400000, PGC_SIGHUP, GUC_UNIT_MS);
  define_bool("mailsentry.allow_private_networks",
              "Lets the worker connect to loopback, private and reserved addresses.",
              &s.allow_private_networks, false, PGC_SIGHUP);
  define_string("mailsentry.source_addresses",
                "Local addresses rotated per SMTP connection; empty: chosen by the system.",
                &s.source_addresses, "", PGC_SIGHUP, check_source_addresses);
  define_bool("mailsentry.log_smtp_transcripts", "Logs every SMTP dialogue (debugging).",
              &s.log_smtp_transcripts, false, PGC_SIGHUP);
  define_bool("mailsentry.domain_age", "Looks up domain registration dates (RDAP, WHOIS).",
              &s.domain_age, true, PGC_SIGHUP);
  define_string("mailsentry.rdap_bootstrap_file",
                "IANA RDAP bootstrap file (dns.json); empty: the one shipped with mailsentry.",
                &s.rdap_bootstrap_file, "", PGC_SIGHUP, check_printable);
  define_string("mailsentry.whois_server",
                "WHOIS server host[:port], asked for TLDs without RDAP and when RDAP fails; "
                "empty: the server IANA's WHOIS refers to.",
                &s.whois_server, "", PGC_SIGHUP, check_printable);
  define_int("mailsentry.rdap_timeout", "Timeout of one RDAP or WHOIS request.", &s.rdap_timeout_ms,
             3000, 100, 60000, PGC_SIGHUP, GUC_UNIT_MS);
  define_int("mailsentry.rdap_min_interval",
             "Least time between two requests to one RDAP or WHOIS server (rate limit).",
             &s.rdap_min_interval_ms, 500, 0, 60000, PGC_SIGHUP, GUC_UNIT_MS);
  define_int("mailsentry.domain_age_grace",
             "How long a verdict whose other checks are done waits for a registration date "
             "being looked up (at most mailsentry.rdap_timeout; depth extended waits in full).",
             &s.domain_age_grace_ms, 300, 0, 60000, PGC_SIGHUP, GUC_UNIT_MS);
  define_int("mailsentry.registry_breaker_cooldown",
             "How long domain age lookups at an RDAP or WHOIS server that keeps failing fail "
             "fast (and fall back) before one is let through again; 0: no breaker.",
             &s.registry_breaker_cooldown_ms, 60000, 0, 3600000, PGC_SIGHUP, GUC_UNIT_MS);
  define_bool("mailsentry.rdap_verify_tls", "Verifies RDAP servers' certificates.",
              &s.rdap_verify_tls, true, PGC_SIGHUP);
  define_string("mailsentry.dnsbl_zones",
                "DNS blocklist zones for domains, comma-separated; empty: none.", &s.dnsbl_zones,
                "", PGC_SIGHUP, check_printable);
  define_int("mailsentry.cache_ttl", "How long a verdict stays in mailsentry.cache.",
             &s.cache_ttl_s, 7 * 86400, 0, 365 * 86400, PGC_SIGHUP, GUC_UNIT_S);
  define_int("mailsentry.cache_ttl_inconclusive",
             "How long an inconclusive verdict (no definitive answer) stays in the cache.",
             &s.cache_ttl_inconclusive_s, 3600, 0, 365 * 86400, PGC_SIGHUP, GUC_UNIT_S);
  define_int("mailsentry.cache_ttl_dead_domain",
             "How long a verdict on a dead domain (NXDOMAIN, null MX, no mail server address) "
             "stays in the cache (at most mailsentry.cache_ttl): domains get registered.",
             &s.cache_ttl_dead_domain_s, 86400, 0, 365 * 86400, PGC_SIGHUP, GUC_UNIT_S);
  define_string("mailsentry.dns_canary_domains",
                "Domains whose MX the worker looks up to know that its resolver sees the "
                "Internet before NXDOMAIN may prove a domain dead; empty: no check.",
                &s.dns_canary_domains, "gmail.com, outlook.com, yahoo.com", PGC_SIGHUP,
                check_printable);
  define_int("mailsentry.reprobe_delay",
             "The worker asks again this long after an inconclusive answer (greylisting).",
             &s.reprobe_delay_s, 300, 1, 86400, PGC_SIGHUP, GUC_UNIT_S);
  define_int("mailsentry.reprobe_attempts",
             "Background re-probes of an inconclusive address; 0 switches them off.",
             &s.reprobe_attempts, 3, 0, 100, PGC_SIGHUP);
  define_int("mailsentry.cache_purge_interval",
             "How often the worker deletes expired cache rows (1,000 per transaction).",
             &s.cache_purge_interval_s, 60, 1, 86400, PGC_SIGHUP, GUC_UNIT_S);
  define_int("mailsentry.job_concurrency", "Addresses of background jobs in flight at once.",
             &s.job_concurrency, 1000, 1, 100000, PGC_SIGHUP);
  // Caps what any role may SET mailsentry.verify_timeout to: a waiting call
  // holds its queue slots, and the worker keeps working for it.
  define_int("mailsentry.max_verify_timeout",
             "The longest mailsentry.verify_timeout takes effect (the wait is the lesser).",
             &s.max_verify_timeout_ms, 60000, 100, 3600000, PGC_SIGHUP, GUC_UNIT_MS);
  // Per call. How long the worker holds an MX session or a connection slot
  // for one address is the superuser's call: these are shared by all roles.
  define_string("mailsentry.smtp_timeouts",
                "Progressive SMTP timeouts in ms, one per attempt, e.g. '1500,2500,3500'.",
                &s.smtp_timeouts, "1500,2500,3500", PGC_SUSET, check_smtp_timeouts);
  define_int("mailsentry.greylist_retry_delay",
             "Depth 'extended' re-probes greylisted and catch-all answers after this.",
             &s.greylist_retry_delay_ms, 3000, 0, 60000, PGC_SUSET, GUC_UNIT_MS);
  define_int("mailsentry.queue_wait_timeout",
             "How long a call waits for room in a full request queue before failing.",
             &s.queue_wait_timeout_ms, 10000, 0, 3600000, PGC_USERSET, GUC_UNIT_MS);
  define_int("mailsentry.verify_timeout",
             "Longest wait for the network checks of one address; then the verdict is estimated "
             "(at most mailsentry.max_verify_timeout).",
             &s.verify_timeout_ms, 30000, 100, 3600000, PGC_USERSET, GUC_UNIT_MS);
  define_string("mailsentry.debug_fail_point",
                "Makes the named SQL entry point throw a C++ exception (tests the error guard).",
                &s.debug_fail_point, "", PGC_SUSET, check_printable, GUC_NOT_IN_SAMPLE);
}

int effective_verify_timeout_ms() {
  return std::min(settings.verify_timeout_ms, settings.max_verify_timeout_ms);
}

}  // namespace mailsentry::pg
