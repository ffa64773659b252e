// Asynchronous DNS over c-ares, driven by the Asio event loop that also runs
// the SMTP sessions (no thread per query). Answers are cached by their TTL.
#pragma once

#include <asio/io_context.hpp>
#include <asio/ip/address.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "net/dns_servers.hpp"  // DnsServerAddress, parse_dns_servers

namespace mailsentry {

struct DnsOptions {
  std::vector<DnsServerAddress> servers;    // empty: the system resolver (/etc/resolv.conf)
  std::chrono::milliseconds timeout{2000};  // per try
  int tries = 2;
  std::chrono::seconds default_ttl{3600};  // when c-ares does not expose the answer's TTL
  std::chrono::seconds negative_ttl{300};  // NXDOMAIN / no data
  std::size_t cache_capacity = 50000;      // entries; least recently used go first
};

enum class DnsStatus {
  ok,
  no_such_domain,  // NXDOMAIN
  no_data,         // the name exists but has no record of the type (or no mail host at all)
  inconclusive,    // SERVFAIL, REFUSED, timeout, malformed answer
};

struct MxHost {
  int preference = 0;
  std::string host;  // lower-case, no trailing dot
};

struct MxAnswer {
  DnsStatus status = DnsStatus::inconclusive;
  bool null_mx = false;      // RFC 7505 "0 .": the domain takes no mail (status ok, hosts empty)
  bool implicit_mx = false;  // no MX record: hosts == {the domain}, which has A/AAAA (RFC 5321 5.1)
  std::vector<MxHost> hosts;  // by preference; never the A fallback when an MX exists
  std::string error;          // why, when inconclusive
  bool from_cache = false;
  // The domain accepts mail: ok with at least one host.
  bool accepts_mail() const { return status == DnsStatus::ok && !hosts.empty(); }
};

struct AddressAnswer {
  DnsStatus status = DnsStatus::inconclusive;
  std::vector<asio::ip::address> addresses;  // A then AAAA, CNAMEs followed
  std::string error;
  bool from_cache = false;
};

// Identical lookups (same normalised name and kind: MX, addresses, A) made
// while one is in flight share its query and its answer instead of sending
// another: a batch of addresses at one domain asks DNS once.
//
// Threading: the io_context must be run by one thread. resolve_*() and stats()
// may be called from any thread; the constructor, reconfigure() and the
// destructor only on the io_context's thread or while it is not running. The
// resolver must be destroyed before its io_context. Callbacks are always
// posted (never run inside resolve_*()); exceptions they throw are swallowed.
class DnsResolver {
 public:
  // Throws std::runtime_error when c-ares cannot be initialised.
  DnsResolver(asio::io_context& io, DnsOptions options);
  ~DnsResolver();
  DnsResolver(const DnsResolver&) = delete;
  DnsResolver& operator=(const DnsResolver&) = delete;

  // Callbacks run on the io_context's thread, exactly once each (with
  // status inconclusive and error "cancelled" when the resolver is destroyed
  // or reconfigured while the query is pending). A lookup that joins an
  // identical one in flight gets a copy of the same answer (from_cache false),
  // failures and cancellation included.
  void resolve_mx(std::string domain, std::function<void(MxAnswer)> done);
  // Asks DNS even when the answer is cached or a lookup is in flight (and
  // lets no other lookup join this one): the resolver's own view right now,
  // for health checks. The answer is cached as usual.
  void resolve_mx_fresh(std::string domain, std::function<void(MxAnswer)> done);
  void resolve_addresses(std::string host, std::function<void(AddressAnswer)> done);
  // A records only: DNS blocklist lookups ("example.com.dbl.example.net").
  void resolve_a(std::string name, std::function<void(AddressAnswer)> done);

  // Caches `answer` for `domain` as if it had just arrived, for `ttl` (capped
  // as fetched answers are: a day, negative ones by negative_ttl), so that
  // lookups meanwhile send no query: facts restored after a restart. An
  // inconclusive answer, an ok one without hosts or null MX, or a ttl of zero
  // or less stores nothing. Any thread; applied on the io_context thread.
  void seed_mx(std::string domain, MxAnswer answer, std::chrono::milliseconds ttl);

  // New servers or timeouts; drops the cache (seeded answers too) and cancels
  // pending queries.
  void reconfigure(DnsOptions options);

  struct Stats {
    std::uint64_t queries = 0;     // sent to DNS: one per MX, A or AAAA question
    std::uint64_t cache_hits = 0;  // lookups answered from the cache
    std::uint64_t coalesced = 0;   // lookups that joined an identical one in flight
                                   // (no query of their own, not a cache hit)
    std::uint64_t timeouts = 0;
    std::uint64_t failures = 0;
  };
  Stats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mailsentry
