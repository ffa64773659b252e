// Domain registration date from RDAP (HTTPS + JSON, servers from IANA's RDAP
// bootstrap file), falling back to WHOIS on TCP 43 where a TLD has no RDAP or
// its RDAP server fails. A registry server that cannot be reached is skipped
// for a cooldown (circuit breaker), so a dead registry costs one timeout.
#pragma once

#include <asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/address_policy.hpp"
#include "net/registry_gate.hpp"  // RegistryStats
#include "net/smtp_prober.hpp"    // HostResolver

namespace mailsentry {

struct DomainAgeOptions {
  std::string bootstrap_file;  // IANA dns.json (data/rdap_dns.json is shipped)
  std::string whois_server;    // "" = whois.iana.org referral, else this host[:port] for every TLD
  // Where the referral for TLDs without RDAP is asked when whois_server is "";
  // the referred server is queried on this server's port (43 in production).
  // "" skips WHOIS for such TLDs (the result then carries a warning).
  std::string whois_referral_server = "whois.iana.org";
  std::chrono::milliseconds timeout{3000};
  std::chrono::milliseconds min_interval_per_registry{500};  // rate limit per RDAP/WHOIS server
  std::chrono::hours cache_ttl{24 * 30};
  std::chrono::minutes failure_cache_ttl{10};    // so a dead registry is not hammered
  std::size_t max_response_bytes = 1024 * 1024;  // RDAP body / WHOIS answer; larger = no date
  AddressPolicy address_policy;
  bool verify_tls = true;  // RDAP certificates (tests use a local self-signed server)
  // How long lookups skip a registry server (straight to the fallback) after
  // it could not be reached, or answered HTTP 429/5xx three times in a row.
  // Zero turns the breaker off.
  std::chrono::milliseconds registry_breaker_cooldown{60000};
};

struct DomainAgeResult {
  std::optional<int> created_days;  // days since 1970-01-01
  // "rdap" | "whois": that registry answered now; "cached": a date fetched
  // earlier; "restored": a date given to remember(); "": no date.
  std::string source;
  // Why there is no date, naming each registry asked, e.g.
  // "RDAP rdap.example: timeout after 3000 ms; WHOIS whois.example: connection refused".
  // With a date WHOIS gave after RDAP failed: "from WHOIS whois.example (RDAP ...)".
  std::string warning;
};

// Where a domain's lookup stands, for a caller deciding whether to wait.
enum class LookupState {
  none,       // nothing pending or cached: lookup() would ask a registry
  cached,     // lookup() would answer at once from the cache
  queued,     // pending, waiting for a registry's rate-limit slot (or between attempts)
  in_flight,  // pending, a request is on the wire to a server whose breaker let it through
};

class DomainAgeLookup {
 public:
  DomainAgeLookup(asio::io_context& io, HostResolver resolve_host, DomainAgeOptions options);
  // Lookups still pending get their callback, with a warning, before this returns.
  ~DomainAgeLookup();
  DomainAgeLookup(const DomainAgeLookup&) = delete;
  DomainAgeLookup& operator=(const DomainAgeLookup&) = delete;
  // `registrable_domain` is the eTLD+1 (libpsl); results are cached per it.
  // `done` runs exactly once, from an io_context handler (or the destructor);
  // call lookup(), set_options() and the destructor on the io_context thread.
  void lookup(std::string registrable_domain, std::function<void(DomainAgeResult)> done);
  // Caches a creation date known from elsewhere (facts restored after a
  // restart) for `ttl`, at most options.cache_ttl; lookups meanwhile ask no
  // registry. A ttl of zero or less or an invalid domain stores nothing.
  // On the io_context thread, like lookup().
  void remember(std::string registrable_domain, int created_days, std::chrono::milliseconds ttl);
  // Also re-reads the bootstrap file (so a refreshed dns.json is picked up),
  // forgets cached failures and closes every breaker.
  void set_options(DomainAgeOptions options);

  // Per registry server, sorted by protocol then name. Any thread.
  std::vector<RegistryStats> registry_stats() const;
  // On the io_context thread, like lookup().
  LookupState state(std::string_view registrable_domain) const;
  // Whether a verification that started at `started` and is done but for
  // the registration date should wait up to `grace` for it: the lookup is on
  // the wire, it went there with this verification (not `grace` or more
  // before it, as for later addresses of a domain whose lookup hangs), and
  // no other request at that server has hung for longer than `grace` (a
  // server that does not answer now). io_context thread only.
  bool worth_waiting_for(std::string_view registrable_domain,
                         std::chrono::steady_clock::time_point started,
                         std::chrono::milliseconds grace) const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;  // shared: pending handlers hold weak references
};

// Parsers, exposed for unit tests.
std::optional<int> rdap_registration_days(std::string_view json);
std::optional<int> whois_creation_days(std::string_view response);

}  // namespace mailsentry
