// What the worker persisted about one domain, handed back to the network
// engine after a restart (NetworkEngine::restore) so that answers still valid
// are not fetched again. Each part carries its remaining validity; a part
// whose validity is zero or negative has expired and is ignored.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace mailsentry {

struct KnownDomainFacts {
  std::string domain;  // ASCII (A-labels), lower case

  // The MX lookup's answer, as NetworkFacts reported it.
  struct Mx {
    std::optional<bool> mx_found;         // empty: inconclusive, never restored
    bool implicit_mx = false;             // no MX record: the domain itself takes mail
    std::vector<std::string> mx_records;  // preference order
    std::chrono::milliseconds valid_for{0};
  };
  std::optional<Mx> mx;

  std::optional<bool> catch_all;
  std::chrono::milliseconds catch_all_valid_for{0};

  std::string registrable_domain;          // eTLD+1: the domain age's key ("" = none)
  std::optional<int> domain_created_days;  // days since 1970-01-01
  std::chrono::milliseconds domain_age_valid_for{0};
};

}  // namespace mailsentry
