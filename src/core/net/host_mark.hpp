// What one exchange with an MX host says about the host's health, for the
// pool's circuit breaker and 421 back-off (SmtpPool::record_success,
// record_failure, back_off), in the order they are to be applied.
#pragma once

#include <vector>

namespace mailsentry {

enum class HostMark {
  success,   // it answered: not a dead host
  failure,   // refused, reset, closing (421) or an error reply
  timeout,   // a step took longer than its timeout
  back_off,  // it said 421: no new session to it for a while
};

using HostMarks = std::vector<HostMark>;

}  // namespace mailsentry
