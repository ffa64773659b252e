#include "verdict/domain_facts_row.hpp"

#include <utility>

namespace mailsentry {

namespace {

std::optional<bool> optional_bool(TriState value) {
  if (value == TriState::null) return std::nullopt;
  return value == TriState::yes;
}

}  // namespace

KnownDomainFacts known_facts_of(const DomainFactsRow& row) {
  KnownDomainFacts facts;
  facts.domain = std::string(row.domain.view());
  if (row.mx_found != TriState::null && row.mx_valid_ms > 0) {
    KnownDomainFacts::Mx mx;
    mx.mx_found = optional_bool(row.mx_found);
    mx.implicit_mx = row.implicit_mx;
    for (std::uint32_t k = 0; k < row.mx_count; ++k)
      mx.mx_records.emplace_back(row.mx_records[k].view());
    mx.valid_for = std::chrono::milliseconds(row.mx_valid_ms);
    facts.mx = std::move(mx);
  }
  if (row.catch_all != TriState::null && row.catch_all_valid_ms > 0) {
    facts.catch_all = optional_bool(row.catch_all);
    facts.catch_all_valid_for = std::chrono::milliseconds(row.catch_all_valid_ms);
  }
  if (row.registrable_domain.present && row.created_days.present && row.created_valid_ms > 0) {
    facts.registrable_domain = std::string(row.registrable_domain.view());
    facts.domain_created_days = row.created_days.value;
    facts.domain_age_valid_for = std::chrono::milliseconds(row.created_valid_ms);
  }
  return facts;
}

}  // namespace mailsentry
