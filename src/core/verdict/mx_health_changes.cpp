#include "verdict/mx_health_changes.hpp"

namespace mailsentry {

void MxHealthChanges::take(const std::vector<SmtpProber::MxStats>& current, bool with_counters,
                           std::vector<MxHealthChange>& out) {
  for (const SmtpProber::MxStats& mx : current) {
    Saved& saved = saved_[mx.host];
    const bool counters_changed =
        mx.probes != saved.probes || mx.timeouts != saved.timeouts || mx.errors != saved.errors;
    if (mx.breaker_open == saved.breaker_open && !(with_counters && counters_changed)) continue;
    MxHealthChange change{};
    change.host.assign(mx.host);
    change.probes = static_cast<std::int64_t>(mx.probes - saved.probes);
    change.timeouts = static_cast<std::int64_t>(mx.timeouts - saved.timeouts);
    change.errors = static_cast<std::int64_t>(mx.errors - saved.errors);
    change.breaker_open = mx.breaker_open;
    change.breaker_open_until = mx.breaker_open_until;
    out.push_back(change);
    saved = {mx.probes, mx.timeouts, mx.errors, mx.breaker_open};
  }
}

}  // namespace mailsentry
