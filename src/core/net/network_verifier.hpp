// The network half of one verification: MX lookup, then the SMTP probe, and
// at the same time the domain age and DNS blocklist lookups. Runs on the
// I/O thread's io_context; gathers everything into NetworkFacts.
#pragma once

#include <asio/io_context.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/dns_resolver.hpp"
#include "net/domain_age.hpp"
#include "net/known_domain_facts.hpp"
#include "net/network_facts.hpp"
#include "net/resolver_canary.hpp"
#include "net/smtp_prober.hpp"

namespace mailsentry {

enum class Depth : std::uint8_t { quick, standard, extended };
// "quick" | "standard" | "extended"; false for anything else.
// Every depth with its SQL name, shallowest first: the one place the names
// are written (SQL reads them through mailsentry.depth_names()).
inline constexpr std::pair<Depth, std::string_view> kDepths[] = {
    {Depth::quick, "quick"}, {Depth::standard, "standard"}, {Depth::extended, "extended"}};
bool parse_depth(std::string_view text, Depth& depth);
std::string_view depth_name(Depth depth);

struct NetworkRequest {
  std::string address;             // normalized (A-label domain)
  std::string domain;              // ASCII domain
  std::string registrable_domain;  // eTLD+1, for the domain age ("" to skip)
  bool needs_smtputf8 = false;
  // Only the MX lookup: a likely domain typo is checked for mail servers of
  // its own, nothing more.
  bool mx_only = false;
  Depth depth = Depth::standard;
  ProbeSettings smtp;
};

// Server-wide settings of the network checks.
struct NetworkOptions {
  bool domain_age = true;
  std::vector<std::string> dnsbl_zones;
  // MX host patterns of providers that refuse probes ("*.google.com"):
  // their addresses are not probed (level 'estimated').
  std::vector<std::string> anti_probe_patterns;
  // MX host patterns of well-known mail hosts -> provider name.
  std::vector<std::pair<std::string, std::string>> mx_provider_patterns;
  // How long a verdict whose other checks are done waits for a registration
  // date whose lookup is on the wire (depth extended waits for it in full).
  std::chrono::milliseconds domain_age_grace{300};
};

// A registration date that came after the verdicts that wanted it: the
// worker writes it to the domain's rows.
struct LateDomainAge {
  std::string registrable_domain;
  std::optional<int> created_days;  // none: the lookup ended without a date
  std::string warning;              // why there is no date, when there is none
};

// True when `host` matches `pattern`: exact, or "*.suffix" for any subdomain.
bool mx_pattern_matches(std::string_view pattern, std::string_view host);

// The MX answer that persisted facts describe, the inverse of how verify()
// reports one, so a restored answer yields the same NetworkFacts. Nothing
// when they say nothing usable (inconclusive, or mail without a host). A
// negative answer comes back as no_data: the facts do not say which kind.
std::optional<MxAnswer> mx_answer_from_facts(std::string_view domain,
                                             const KnownDomainFacts::Mx& mx);

class NetworkVerifier {
 public:
  NetworkVerifier(asio::io_context& io, DnsResolver& dns, SmtpProber& smtp,
                  DomainAgeLookup& domain_age, ResolverCanary& canary, NetworkOptions options);
  void set_options(NetworkOptions options);
  // Called (on the io_context thread) with each registration date that
  // arrives after a verdict was given without it.
  void on_late_domain_age(std::function<void(LateDomainAge)> handler);
  // `done` runs on the io_context thread exactly once.
  void verify(NetworkRequest request, std::function<void(NetworkFacts)> done);

 private:
  asio::io_context& io_;
  DnsResolver& dns_;
  SmtpProber& smtp_;
  DomainAgeLookup& domain_age_;
  ResolverCanary& canary_;
  NetworkOptions options_;
  std::shared_ptr<std::function<void(LateDomainAge)>> late_age_;
};

}  // namespace mailsentry
