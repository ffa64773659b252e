#include "net/registry_gate.hpp"

#include <algorithm>
#include <asio/ip/address.hpp>
#include <asio/post.hpp>

namespace mailsentry {
namespace {

// HTTP 429/5xx in a row that open a breaker (a connection failure opens it at
// once): one overloaded answer is normal, a run of them means back off.
constexpr int kServerErrorsToOpen = 3;

bool is_ip_literal(const std::string& host) {
  std::error_code error;
  asio::ip::make_address(host, error);
  return !error;
}

}  // namespace

// A registry server. The rate limit is io-thread state; the breaker and
// counters are written on the io thread under stats_mutex_ and read by
// stats() from any thread.
struct RegistryGate::Registry {
  Registry(asio::io_context& io, RegistryProtocol protocol_used, std::string host_name)
      : protocol(protocol_used), host(std::move(host_name)), timer(io) {}
  const RegistryProtocol protocol;
  const std::string host;
  // Requests start at least min_interval apart.
  Clock::time_point next_start{};
  std::deque<std::shared_ptr<Attempt>> waiting;
  asio::steady_timer timer;
  bool timer_armed = false;
  std::vector<std::weak_ptr<Attempt>> asking;  // resolving or on the wire
  // Breaker: open after a failure, then half-open (one probe) after the cooldown.
  CircuitBreaker breaker;
  bool tripped = false;          // opened, and no answer since
  std::weak_ptr<Attempt> probe;  // the request let through while half-open
  std::string open_reason;
  std::uint64_t lookups = 0, failures = 0, skipped = 0, openings = 0;
};

RegistryGate::RegistryGate(asio::io_context& io, HostResolver resolve_host,
                           RegistryGateOptions options)
    : io_(io), resolve_host_(std::move(resolve_host)), options_(options) {}

RegistryGate::~RegistryGate() = default;

void RegistryGate::set_options(RegistryGateOptions options) {
  options_ = options;
  std::lock_guard<std::mutex> lock(stats_mutex_);
  for (auto& [key, registry] : registries_) {
    registry->breaker = CircuitBreaker();
    registry->tripped = false;
    registry->probe.reset();
    registry->open_reason.clear();
  }
}

bool RegistryGate::breaker_enabled() const {
  return options_.breaker_cooldown > std::chrono::milliseconds::zero();
}

RegistryGate::Registry& RegistryGate::registry_for(RegistryProtocol protocol,
                                                   const std::string& host) {
  auto found = registries_.find({protocol, host});
  if (found != registries_.end()) return *found->second;
  std::lock_guard<std::mutex> lock(stats_mutex_);
  auto& slot = registries_[{protocol, host}];
  slot = std::make_unique<Registry>(io_, protocol, host);
  return *slot;
}

std::shared_ptr<RegistryGate::Attempt> RegistryGate::ask(RegistryProtocol protocol,
                                                         const std::string& host, Launch launch,
                                                         ReplyDone done) {
  Registry& registry = registry_for(protocol, host);
  auto attempt = std::make_shared<Attempt>();
  attempt->registry = &registry;
  attempt->launch = std::move(launch);
  attempt->done = std::move(done);
  const Clock::time_point now = Clock::now();
  const bool probing = !registry.probe.expired();
  if (breaker_enabled() && (registry.breaker.is_open(now) || probing)) {
    attempt->phase = Attempt::Phase::done;
    {
      std::lock_guard<std::mutex> lock(stats_mutex_);
      ++registry.skipped;
    }
    std::weak_ptr<RegistryGate> weak = shared_from_this();
    asio::post(io_, [weak, attempt, reply = skipped_reply(registry.open_reason)]() mutable {
      if (weak.lock()) finish(*attempt, std::move(reply));
    });
    return attempt;
  }
  if (registry.tripped) {  // the cooldown is over: this one request tests the server
    std::lock_guard<std::mutex> lock(stats_mutex_);
    registry.probe = attempt;
  }
  enqueue(registry, attempt);
  return attempt;
}

void RegistryGate::enqueue(Registry& registry, std::shared_ptr<Attempt> attempt) {
  const Clock::time_point now = Clock::now();
  if (registry.waiting.empty() && now >= registry.next_start) {
    registry.next_start = now + options_.min_interval;
    return start(std::move(attempt));
  }
  registry.waiting.push_back(std::move(attempt));
  arm(registry);
}

void RegistryGate::arm(Registry& registry) {
  if (registry.timer_armed) return;
  registry.timer_armed = true;
  registry.timer.expires_at(registry.next_start);
  std::weak_ptr<RegistryGate> weak = shared_from_this();
  Registry* target = &registry;  // registries are never erased while the gate lives
  registry.timer.async_wait([weak, target](const std::error_code& error) {
    auto self = weak.lock();
    if (!self || error) return;
    target->timer_armed = false;
    if (target->waiting.empty()) return;  // emptied by an opening breaker
    std::shared_ptr<Attempt> attempt = std::move(target->waiting.front());
    target->waiting.pop_front();
    target->next_start = Clock::now() + self->options_.min_interval;
    if (!target->waiting.empty()) self->arm(*target);
    self->start(std::move(attempt));
  });
}

void RegistryGate::start(std::shared_ptr<Attempt> attempt) {
  Registry& registry = *attempt->registry;
  attempt->phase = Attempt::Phase::asking;
  attempt->asked_at = Clock::now();
  {
    std::lock_guard<std::mutex> lock(stats_mutex_);
    ++registry.lookups;
  }
  auto& asking = registry.asking;
  asking.erase(std::remove_if(asking.begin(), asking.end(),
                              [](const std::weak_ptr<Attempt>& weak) {
                                auto alive = weak.lock();
                                return !alive || alive->phase != Attempt::Phase::asking;
                              }),
               asking.end());
  asking.push_back(attempt);
  std::weak_ptr<RegistryGate> weak = shared_from_this();
  resolve(registry.host, [weak, attempt](std::vector<asio::ip::address> addresses,
                                         std::string error) {
    auto self = weak.lock();
    if (!self || attempt->phase != Attempt::Phase::asking) return;
    if (!error.empty()) {
      // Resolvers may answer synchronously; replies always come from a handler.
      asio::post(self->io_, [weak, attempt, reply = unreachable_reply(std::move(error))]() mutable {
        if (auto alive = weak.lock()) alive->on_reply(attempt, std::move(reply));
      });
      return;
    }
    attempt->operation =
        attempt->launch(std::move(addresses), [weak, attempt](RegistryReply reply) {
          if (auto alive = weak.lock()) alive->on_reply(attempt, std::move(reply));
        });
  });
}

void RegistryGate::on_reply(const std::shared_ptr<Attempt>& attempt, RegistryReply reply) {
  if (attempt->phase != Attempt::Phase::asking) return;  // given up by the breaker or shutdown
  attempt->phase = Attempt::Phase::done;
  Registry& registry = *attempt->registry;
  const bool opened = record(registry, attempt, reply);
  finish(*attempt, std::move(reply));
  if (opened) abandon_pending(registry);
}

// Feeds one reply to the breaker; true when it opened the breaker.
bool RegistryGate::record(Registry& registry, const std::shared_ptr<Attempt>& attempt,
                          const RegistryReply& reply) {
  std::lock_guard<std::mutex> lock(stats_mutex_);
  const bool was_probe = registry.probe.lock() == attempt;
  if (was_probe) registry.probe.reset();
  if (reply.health == Health::answered) {
    registry.breaker.record_success();
    registry.tripped = false;
    return false;
  }
  if (reply.health != Health::server_error && reply.health != Health::unreachable) return false;
  ++registry.failures;
  if (!breaker_enabled()) return false;
  const Clock::time_point now = Clock::now();
  const bool was_open = registry.breaker.is_open(now);
  // While half-open any failure reopens, as does any connection failure.
  const int threshold = reply.health == Health::unreachable || was_probe ? 1 : kServerErrorsToOpen;
  if (!registry.breaker.record_failure(now, threshold, options_.breaker_cooldown) || was_open) {
    return false;
  }
  registry.tripped = true;
  registry.open_reason = reply.error.empty() ? "HTTP " + std::to_string(reply.status) : reply.error;
  ++registry.openings;
  return true;
}

// The breaker just opened: every other request for this server fails fast
// now, whether it waits for its rate-limit slot or is already on the wire.
void RegistryGate::abandon_pending(Registry& registry) {
  std::vector<std::shared_ptr<Attempt>> abandoned = take_pending(registry);
  {
    std::lock_guard<std::mutex> lock(stats_mutex_);
    registry.skipped += abandoned.size();
    registry.probe.reset();
  }
  for (const std::shared_ptr<Attempt>& attempt : abandoned) {
    attempt->phase = Attempt::Phase::done;  // so the cancelled request's reply is ignored
    if (auto operation = attempt->operation.lock()) operation->cancel();
  }
  // Only now call out: the callbacks may start new lookups for this server.
  for (const std::shared_ptr<Attempt>& attempt : abandoned) {
    finish(*attempt, skipped_reply(registry.open_reason));
  }
}

void RegistryGate::shutdown() {
  for (auto& [key, registry] : registries_) {  // timers go with the gate; handlers hold weak refs
    for (const std::shared_ptr<Attempt>& attempt : take_pending(*registry)) {
      attempt->phase = Attempt::Phase::done;  // so the cancelled request's reply is ignored
      attempt->done = nullptr;
      if (auto operation = attempt->operation.lock()) operation->cancel();
    }
  }
}

// Removes and returns the attempts queued or under way for `registry`.
std::vector<std::shared_ptr<RegistryGate::Attempt>> RegistryGate::take_pending(Registry& registry) {
  std::vector<std::shared_ptr<Attempt>> pending(registry.waiting.begin(), registry.waiting.end());
  registry.waiting.clear();
  for (const std::weak_ptr<Attempt>& weak : registry.asking) {
    std::shared_ptr<Attempt> attempt = weak.lock();
    if (attempt && attempt->phase == Attempt::Phase::asking) pending.push_back(attempt);
  }
  registry.asking.clear();
  return pending;
}

void RegistryGate::finish(Attempt& attempt, RegistryReply reply) {
  ReplyDone done = std::move(attempt.done);
  attempt.done = nullptr;
  if (done) done(std::move(reply));
}

bool RegistryGate::worth_waiting_for(const Attempt& attempt, Clock::time_point started,
                                     std::chrono::milliseconds grace) {
  if (attempt.phase != Attempt::Phase::asking || attempt.registry == nullptr) return false;
  if (attempt.asked_at + grace < started) return false;  // asked long before this verification
  const Clock::time_point now = Clock::now();
  for (const std::weak_ptr<Attempt>& weak : attempt.registry->asking) {
    std::shared_ptr<Attempt> other = weak.lock();
    if (other && other.get() != &attempt && other->phase == Attempt::Phase::asking &&
        now - other->asked_at > grace)
      return false;
  }
  return true;
}

std::vector<RegistryStats> RegistryGate::stats() const {
  std::lock_guard<std::mutex> lock(stats_mutex_);
  const Clock::time_point now = Clock::now();
  const auto wall_now = std::chrono::system_clock::now();
  std::vector<RegistryStats> all;
  all.reserve(registries_.size());
  for (const auto& [key, registry] : registries_) {  // sorted by protocol, then host
    RegistryStats stats;
    stats.name = registry->host;
    stats.protocol = registry->protocol == RegistryProtocol::rdap ? "rdap" : "whois";
    stats.lookups = registry->lookups;
    stats.failures = registry->failures;
    stats.skipped = registry->skipped;
    stats.breaker_open = registry->breaker.is_open(now) || !registry->probe.expired();
    if (registry->tripped) {
      stats.open_until = wall_now + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                        registry->breaker.open_until() - now);
    }
    stats.breaker_openings = registry->openings;
    all.push_back(std::move(stats));
  }
  return all;
}

void RegistryGate::resolve(const std::string& host, AddressesDone done) {
  if (is_ip_literal(host)) return done({asio::ip::make_address(host)}, {});
  if (!resolve_host_) return done({}, "no resolver");
  std::weak_ptr<RegistryGate> weak = shared_from_this();
  try {
    resolve_host_(host, [weak, done](AddressAnswer answer) {
      if (!weak.lock()) return;
      if (answer.status != DnsStatus::ok || answer.addresses.empty()) {
        return done({}, answer.error.empty() ? std::string("cannot resolve")
                                             : "cannot resolve (" + answer.error + ")");
      }
      done(std::move(answer.addresses), {});
    });
  } catch (const std::exception& error) {
    done({}, std::string("cannot resolve (") + error.what() + ")");
  }
}

}  // namespace mailsentry
