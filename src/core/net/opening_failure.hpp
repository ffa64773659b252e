// What a session that failed to open (connect, greeting, EHLO or STARTTLS)
// means for its host and for the jobs a fresh session would have carried.
#pragma once

#include "net/host_mark.hpp"
#include "net/smtp_session.hpp"

namespace mailsentry {

struct OpeningFailure {
  HostMarks marks;
  bool retry = false;      // timeout or connection error: each job's next attempt
  bool shut_down = false;  // closed on our side: the jobs end with "prober shut down"
  // Otherwise the host answered and refused: the jobs end with its reply.
};

OpeningFailure judge_opening_failure(const OpenResult& open);

}  // namespace mailsentry
