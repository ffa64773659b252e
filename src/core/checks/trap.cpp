#include "checks/trap.hpp"

#include <algorithm>
#include <string_view>

#include "checks/local_part.hpp"

namespace mailsentry {
namespace {

// Confidence (0-100) that the address is a trap or a placeholder nobody reads:
//   reserved_domain        95  RFC 2606/6761 names: mail can never be delivered
//   placeholder_domain     85  conventional never-delegated names (localdomain)
//   other domain entry     80  a user-added trap domain
//   honeypot_local_part    70  the names operators give trap mailboxes
//   trap_label             60  a spamtrap/honeypot host label under a real domain
//   other local-part entry 60  a user-added trap local part
//   placeholder_local_part 50  "noemail", "nobody": typed instead of an address
// A local part matched only with a digit suffix ("spamtrap7") loses 10.
// When both halves match, the stronger one names the type and gains 5.
constexpr int kDigitSuffixPenalty = 10;
constexpr int kBothHalvesBonus = 5;
constexpr std::size_t kMaxTrapDigits = 4;
constexpr std::string_view kTrapLabel = "trap_label";

int domain_confidence(std::string_view type) {
  if (type == "reserved_domain") return 95;
  if (type == "placeholder_domain") return 85;
  if (type == kTrapLabel) return 60;
  return 80;
}

int local_confidence(std::string_view type) {
  if (type == "honeypot_local_part") return 70;
  if (type == "placeholder_local_part") return 50;
  return 60;
}

struct Match {
  std::string_view type;
  int confidence = 0;
};

// Suffix entries match the domain or a parent ("mail.example.com" ->
// "example.com"); trap_label entries match one label left of the TLD
// ("spamtrap.corp.com" -> "spamtrap"), and never by suffix.
Match match_domain(std::string_view domain, const NamedList& trap_domains) {
  Match best;
  auto consider = [&best](std::string_view type) {
    const int confidence = domain_confidence(type);
    if (confidence > best.confidence) best = {type, confidence};
  };
  std::string_view suffix = domain;
  while (!suffix.empty()) {
    if (auto hit = trap_domains.find(suffix); hit.found && hit.detail != kTrapLabel) {
      consider(hit.detail.empty() ? std::string_view("trap_domain") : hit.detail);
    }
    const std::size_t dot = suffix.find('.');
    if (dot == std::string_view::npos) break;
    if (auto hit = trap_domains.find(suffix.substr(0, dot));
        hit.found && hit.detail == kTrapLabel) {
      consider(kTrapLabel);
    }
    suffix.remove_prefix(dot + 1);
  }
  return best;
}

Match match_local(std::string_view local, const NamedList& trap_local_parts) {
  const LocalPartKey key(local);
  if (!key.ok()) return {};
  auto exact = [&trap_local_parts](std::string_view candidate) -> Match {
    if (candidate.empty()) return {};
    auto hit = trap_local_parts.find(candidate);
    if (!hit.found) return {};
    std::string_view type = hit.detail.empty() ? std::string_view("trap_local_part") : hit.detail;
    return {type, local_confidence(type)};
  };
  // The compact form differs only when there are separators; skip repeats.
  const bool has_separators = key.compact().size() != key.lower().size();
  if (Match m = exact(key.lower()); m.confidence > 0) return m;
  if (has_separators) {
    if (Match m = exact(key.compact()); m.confidence > 0) return m;
  }
  Match numbered = exact(without_digit_suffix(key.lower(), kMaxTrapDigits));
  if (numbered.confidence == 0 && has_separators) {
    numbered = exact(without_digit_suffix(key.compact(), kMaxTrapDigits));
  }
  if (numbered.confidence > 0) numbered.confidence -= kDigitSuffixPenalty;
  return numbered;
}

}  // namespace

TrapResult assess_trap(const ParsedAddress& address, const Lists& lists) {
  Match domain;
  if (!address.address_literal && !address.domain.empty()) {
    domain = match_domain(address.domain, lists.trap_domains);
  }
  const Match local = match_local(address.local, lists.trap_local_parts);

  TrapResult result;
  const Match& stronger = domain.confidence >= local.confidence ? domain : local;
  if (stronger.confidence == 0) return result;
  result.is_potential_trap = true;
  result.trap_type = std::string(stronger.type);
  result.confidence = stronger.confidence;
  if (domain.confidence > 0 && local.confidence > 0) {
    result.confidence = std::min(100, result.confidence + kBothHalvesBonus);
  }
  return result;
}

}  // namespace mailsentry
