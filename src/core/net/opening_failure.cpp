#include "net/opening_failure.hpp"

namespace mailsentry {

OpeningFailure judge_opening_failure(const OpenResult& open) {
  OpeningFailure judged;
  if (open.failure == SessionFailure::timeout) {
    judged.marks = {HostMark::timeout};
    judged.retry = true;
  } else if (open.failure == SessionFailure::connection_error) {
    judged.marks = {HostMark::failure};
    judged.retry = true;
  } else if (open.failure == SessionFailure::refused_greeting) {
    judged.marks = {HostMark::failure};
    if (open.reply && open.reply->code == 421) judged.marks.push_back(HostMark::back_off);
  } else if (open.failure == SessionFailure::aborted) {
    judged.shut_down = true;
  } else {
    judged.marks = {HostMark::success};  // it answered: not a dead host
  }
  return judged;
}

}  // namespace mailsentry
