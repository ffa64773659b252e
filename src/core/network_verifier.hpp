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
#include <vector>

#include "dns_resolver.hpp"
#include "domain_age.hpp"
#include "known_domain_facts.hpp"
#include "network_facts.hpp"
#include "smtp_prober.hpp"

namespace mailsentry {

enum class Depth { quick, standard, extended };
// "quick" | "standard" | "extended"; false for anything else.
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
  NetworkVerifier(DnsResolver& dns, SmtpProber& smtp, DomainAgeLookup& domain_age,
                  NetworkOptions options);
  void set_options(NetworkOptions options);
  // `done` runs on the io_context thread exactly once.
  void verify(NetworkRequest request, std::function<void(NetworkFacts)> done);

 private:
  DnsResolver& dns_;
  SmtpProber& smtp_;
  DomainAgeLookup& domain_age_;
  NetworkOptions options_;
};

}  // namespace mailsentry
