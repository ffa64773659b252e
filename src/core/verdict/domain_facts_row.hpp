// One persisted row of domain facts as plain data (filled on the PostgreSQL
// side without building any C++ object), and the facts it hands back to the
// network engine after a restart.
#pragma once

#include <cstdint>

#include "net/known_domain_facts.hpp"
#include "verdict/verification_record.hpp"

namespace mailsentry {

struct DomainFactsRow {
  FixedText<256> domain;
  TriState mx_found;
  bool implicit_mx;
  std::uint32_t mx_count;
  FixedText<256> mx_records[kMaxMxRecords];
  std::int64_t mx_valid_ms;  // what is left of each part's validity
  TriState catch_all;
  std::int64_t catch_all_valid_ms;
  FixedText<256> registrable_domain;
  NullableInt created_days;  // days since 1970-01-01
  std::int64_t created_valid_ms;
};

// The parts of `row` that are known and still valid.
KnownDomainFacts known_facts_of(const DomainFactsRow& row);

}  // namespace mailsentry
