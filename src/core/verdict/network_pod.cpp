#include "verdict/network_pod.hpp"

#include <algorithm>

namespace mailsentry {

namespace {

template <std::size_t N>
std::string to_string(const FixedText<N>& text) {
  return text.present ? std::string(text.bytes, text.size) : std::string();
}

std::optional<int> to_optional(const NullableInt& value) {
  return value.present ? std::optional<int>(value.value) : std::nullopt;
}

void from_optional(const std::optional<int>& value, NullableInt& out) {
  if (value)
    out.set(*value);
  else
    out.set_null();
}

}  // namespace

void request_to_pod(const NetworkRequest& request, NetworkRequestPod& pod) {
  pod.address.assign(request.address);
  pod.domain.assign(request.domain);
  pod.registrable_domain.assign(request.registrable_domain);
  pod.needs_smtputf8 = request.needs_smtputf8;
  pod.mx_only = request.mx_only;
  pod.depth = request.depth;
  pod.timeout_count = static_cast<std::int32_t>(
      std::min<std::size_t>(request.smtp.timeouts.size(), kMaxSmtpTimeouts));
  for (int i = 0; i < pod.timeout_count; ++i)
    pod.timeouts_ms[i] = static_cast<std::int32_t>(request.smtp.timeouts[i].count());
  pod.greylist_retry_delay_ms =
      static_cast<std::int32_t>(request.smtp.greylist_retry_delay.count());
}

NetworkRequest request_from_pod(const NetworkRequestPod& pod) {
  NetworkRequest request;
  request.address = to_string(pod.address);
  request.domain = to_string(pod.domain);
  request.registrable_domain = to_string(pod.registrable_domain);
  request.needs_smtputf8 = pod.needs_smtputf8;
  request.mx_only = pod.mx_only;
  request.depth = pod.depth;
  request.smtp.timeouts.clear();
  for (int i = 0; i < std::clamp(pod.timeout_count, 0, kMaxSmtpTimeouts); ++i)
    request.smtp.timeouts.emplace_back(pod.timeouts_ms[i]);
  request.smtp.greylist_retry_delay = std::chrono::milliseconds(pod.greylist_retry_delay_ms);
  return request;
}

void facts_to_pod(const NetworkFacts& facts, NetworkFactsPod& pod) {
  pod.mx_found = facts.mx_found ? (*facts.mx_found ? TriState::yes : TriState::no) : TriState::null;
  pod.dead_domain = static_cast<std::uint8_t>(facts.dead_domain);
  pod.implicit_mx = facts.implicit_mx;
  pod.mx_record_count =
      static_cast<std::uint32_t>(std::min<std::size_t>(facts.mx_records.size(), kMaxMxRecords));
  for (std::uint32_t i = 0; i < pod.mx_record_count; ++i)
    pod.mx_records[i].assign(facts.mx_records[i]);
  pod.mx_provider.assign_or_null(facts.mx_provider);
  pod.smtp = static_cast<std::uint8_t>(facts.smtp);
  pod.smtp_skipped_by_policy = facts.smtp_skipped_by_policy;
  pod.catch_all =
      facts.catch_all ? (*facts.catch_all ? TriState::yes : TriState::no) : TriState::null;
  pod.greylisted = facts.greylisted;
  pod.mx_host.assign_or_null(facts.mx_host);
  from_optional(facts.smtp_code, pod.smtp_code);
  pod.smtp_message.assign_or_null(facts.smtp_message);
  from_optional(facts.domain_created_days, pod.domain_created_days);
  from_optional(facts.domain_age_days, pod.domain_age_days);
  pod.dnsbl_listed = facts.dnsbl_listed;
  pod.domain_age_pending = facts.domain_age_pending;
  pod.unfinished = facts.unfinished;
  pod.warning_count =
      static_cast<std::uint32_t>(std::min<std::size_t>(facts.warnings.size(), kMaxWarnings));
  for (std::uint32_t i = 0; i < pod.warning_count; ++i) pod.warnings[i].assign(facts.warnings[i]);
}

NetworkFacts facts_from_pod(const NetworkFactsPod& pod) {
  NetworkFacts facts;
  if (pod.mx_found != TriState::null) facts.mx_found = pod.mx_found == TriState::yes;
  facts.dead_domain = pod.dead_domain <= static_cast<std::uint8_t>(DeadDomain::refuses_smtp)
                          ? static_cast<DeadDomain>(pod.dead_domain)
                          : DeadDomain::none;
  facts.implicit_mx = pod.implicit_mx;
  for (std::uint32_t i = 0; i < std::min<std::uint32_t>(pod.mx_record_count, kMaxMxRecords); ++i)
    facts.mx_records.push_back(to_string(pod.mx_records[i]));
  facts.mx_provider = to_string(pod.mx_provider);
  facts.smtp = static_cast<SmtpOutcome>(pod.smtp);
  facts.smtp_skipped_by_policy = pod.smtp_skipped_by_policy;
  if (pod.catch_all != TriState::null) facts.catch_all = pod.catch_all == TriState::yes;
  facts.greylisted = pod.greylisted;
  facts.mx_host = to_string(pod.mx_host);
  facts.smtp_code = to_optional(pod.smtp_code);
  facts.smtp_message = to_string(pod.smtp_message);
  facts.domain_created_days = to_optional(pod.domain_created_days);
  facts.domain_age_days = to_optional(pod.domain_age_days);
  facts.dnsbl_listed = pod.dnsbl_listed;
  facts.domain_age_pending = pod.domain_age_pending;
  facts.unfinished = pod.unfinished;
  for (std::uint32_t i = 0; i < std::min<std::uint32_t>(pod.warning_count, kMaxWarnings); ++i)
    facts.warnings.push_back(to_string(pod.warnings[i]));
  return facts;
}

}  // namespace mailsentry
