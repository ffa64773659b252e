// Plain-data forms of a network request and its answer, as they travel
// through shared memory between a backend and the worker. No pointers, no
// destructors, fixed sizes. Includes no PostgreSQL header.
#pragma once

#include <cstdint>

#include "net/network_facts.hpp"
#include "net/network_verifier.hpp"
#include "verdict/verification_record.hpp"

namespace mailsentry {

constexpr int kMaxSmtpTimeouts = 6;
constexpr int kMaxWarnings = 6;

struct NetworkRequestPod {
  FixedText<400> address;
  FixedText<256> domain;
  FixedText<256> registrable_domain;
  bool needs_smtputf8;
  bool mx_only;
  Depth depth;
  std::int32_t timeout_count;
  std::int32_t timeouts_ms[kMaxSmtpTimeouts];
  std::int32_t greylist_retry_delay_ms;
};

struct NetworkFactsPod {
  TriState mx_found;
  std::uint8_t dead_domain;  // DeadDomain
  bool implicit_mx;
  std::uint32_t mx_record_count;
  FixedText<256> mx_records[kMaxMxRecords];
  FixedText<64> mx_provider;
  std::uint8_t smtp;  // SmtpOutcome
  bool smtp_skipped_by_policy;
  TriState catch_all;
  bool greylisted;
  FixedText<256> mx_host;
  NullableInt smtp_code;
  FixedText<256> smtp_message;
  NullableInt domain_created_days;
  NullableInt domain_age_days;
  bool dnsbl_listed;
  bool domain_age_pending;
  bool unfinished;  // the worker answered without facts (see NetworkFacts)
  std::uint32_t warning_count;
  FixedText<200> warnings[kMaxWarnings];
};

// C++ side only (no PostgreSQL calls): conversions in both directions.
void request_to_pod(const NetworkRequest& request, NetworkRequestPod& pod);
NetworkRequest request_from_pod(const NetworkRequestPod& pod);
void facts_to_pod(const NetworkFacts& facts, NetworkFactsPod& pod);
NetworkFacts facts_from_pod(const NetworkFactsPod& pod);

}  // namespace mailsentry
