#include "net/host_queues.hpp"

#include <algorithm>

namespace mailsentry {

std::size_t HostQueue::sessions_wanted(const SmtpOptions& options) const {
  const std::size_t per_batch = static_cast<std::size_t>(std::max(
      1, std::min(options.max_recipients_per_session, options.max_rejections_per_session)));
  return std::min<std::size_t>(
      (waiting.size() + per_batch - 1) / per_batch,
      static_cast<std::size_t>(std::max(1, options.max_connections_per_mx)));
}

void HostQueues::push(const JobPtr& job, bool front) {
  std::deque<JobPtr>& waiting = queues_[job->host()].waiting;
  if (front) {
    waiting.push_front(job);
  } else {
    waiting.push_back(job);
  }
}

HostQueue* HostQueues::find(const std::string& host) {
  const auto found = queues_.find(host);
  return found == queues_.end() ? nullptr : &found->second;
}

void HostQueues::acquisition_answered(const std::string& host) {
  HostQueue* queue = find(host);
  if (queue && queue->acquiring > 0) --queue->acquiring;
}

std::deque<JobPtr> HostQueues::take_waiting(const std::string& host) {
  std::deque<JobPtr> waiting;
  if (HostQueue* queue = find(host)) waiting.swap(queue->waiting);
  return waiting;
}

std::vector<JobPtr> HostQueues::take_smtputf8_needs(const std::string& host) {
  std::vector<JobPtr> taken;
  HostQueue* queue = find(host);
  if (!queue) return taken;
  std::deque<JobPtr>& waiting = queue->waiting;
  for (auto it = waiting.begin(); it != waiting.end();) {
    if ((*it)->request.needs_smtputf8 && !(*it)->answer) {
      taken.push_back(std::move(*it));
      it = waiting.erase(it);
    } else {
      ++it;
    }
  }
  return taken;
}

void HostQueues::forget_if_idle(const std::string& host) {
  const auto found = queues_.find(host);
  if (found != queues_.end() && found->second.waiting.empty() && found->second.acquiring == 0)
    queues_.erase(found);
}

std::vector<std::string> HostQueues::hosts() const {
  std::vector<std::string> hosts;
  hosts.reserve(queues_.size());
  for (const auto& entry : queues_) hosts.push_back(entry.first);
  return hosts;
}

}  // namespace mailsentry
