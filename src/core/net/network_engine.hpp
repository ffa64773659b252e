// The network side of the background worker: an I/O thread running one Asio
// event loop with the resolver, the SMTP pools and the domain age lookups.
// The worker's main thread (the only one that calls PostgreSQL) submits
// requests and collects completions; an eventfd tells it when some wait.
#pragma once

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "net/dns_resolver.hpp"
#include "net/domain_age.hpp"
#include "net/known_domain_facts.hpp"
#include "net/network_facts.hpp"
#include "net/network_verifier.hpp"
#include "net/resolver_canary.hpp"
#include "net/smtp_prober.hpp"

namespace mailsentry {

struct NetworkEngineConfig {
  DnsOptions dns;
  SmtpOptions smtp;
  DomainAgeOptions domain_age;
  NetworkOptions network;
  ResolverCanaryOptions canary;
};

class NetworkEngine {
 public:
  // Starts the I/O thread with every signal blocked, so that PostgreSQL's
  // signal handlers only ever run on the main thread. Throws on failure.
  explicit NetworkEngine(NetworkEngineConfig config);
  // Stops the event loop and joins the thread; pending requests are dropped.
  ~NetworkEngine();
  NetworkEngine(const NetworkEngine&) = delete;
  NetworkEngine& operator=(const NetworkEngine&) = delete;

  // Thread-safe. The completion carries `tag` back. While an identical
  // request (same address, depth and mx_only) is in flight, `tag` joins it
  // instead of verifying again, and gets a copy of the same facts.
  void submit(std::uint64_t tag, NetworkRequest request);
  // Thread-safe. Seeds the caches with facts persisted before a restart, so
  // verifications use them, without network traffic, until they expire.
  // Ordered with submit(): requests submitted afterwards see them.
  void restore(std::vector<KnownDomainFacts> facts);
  // Thread-safe: circuit breakers that were open before a restart, with the
  // time they still had (bounded by the current cooldown).
  void restore_breakers(std::vector<std::pair<std::string, std::chrono::milliseconds>> open);
  void reconfigure(NetworkEngineConfig config);

  // Readable while completions wait; take_completions() drains it.
  int completion_fd() const;
  std::vector<std::pair<std::uint64_t, NetworkFacts>> take_completions();
  // Registration dates that came after their verdicts (the same fd tells).
  std::vector<LateDomainAge> take_late_domain_ages();

  struct Stats {
    std::uint64_t submitted = 0;
    std::uint64_t completed = 0;
    std::uint64_t in_flight = 0;
    DnsResolver::Stats dns;
    std::vector<SmtpProber::MxStats> mx;
    SmtpProber::OutboundState outbound;
    ResolverCanary::State resolver;
    std::vector<RegistryStats> registries;
    std::uint64_t late_domain_ages = 0;
  };
  // Thread-safe snapshot (taken on the I/O thread; waits for it briefly).
  Stats stats();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mailsentry
