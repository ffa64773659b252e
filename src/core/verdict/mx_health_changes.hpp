// Per-MX health is saved as increments over what was saved before, so that
// the totals survive restarts of the worker. A breaker that opened or closed
// is saved at once, the counters now and then.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "net/smtp_prober.hpp"
#include "verdict/verification_record.hpp"

namespace mailsentry {

struct MxHealthChange {
  FixedText<256> host;
  std::int64_t probes, timeouts, errors;  // since the last save
  bool breaker_open;
  std::chrono::system_clock::time_point breaker_open_until;  // when breaker_open
};

class MxHealthChanges {
 public:
  // Appends to `out` the MXes of `current` whose breaker opened or closed
  // since the last call, and with `with_counters` those whose counters moved
  // too; from then on they count as saved.
  void take(const std::vector<SmtpProber::MxStats>& current, bool with_counters,
            std::vector<MxHealthChange>& out);

 private:
  struct Saved {
    std::uint64_t probes = 0, timeouts = 0, errors = 0;
    bool breaker_open = false;
  };
  std::unordered_map<std::string, Saved> saved_;
};

}  // namespace mailsentry
