#include "net/resolver_canary.hpp"

#include <asio/post.hpp>
#include <mutex>
#include <string_view>
#include <utility>

namespace mailsentry {

namespace {

using Clock = std::chrono::steady_clock;

// DnsResolver's error for lookups it dropped (reconfigured or destroyed).
constexpr std::string_view kCancelled = "cancelled";

}  // namespace

std::vector<std::string> default_canary_domains() {
  return {"gmail.com", "outlook.com", "yahoo.com"};
}

// The canary's state, shared with the resolver's callbacks through weak
// pointers so that the canary may go away with lookups in flight.
struct ResolverCanary::Core : std::enable_shared_from_this<ResolverCanary::Core> {
  Core(asio::io_context& io_context, DnsResolver& resolver, ResolverCanaryOptions canary_options)
      : io(io_context), dns(resolver), options(std::move(canary_options)) {}

  bool fresh(Clock::time_point now) const {
    if (!known || stale) return false;
    if (now - checked_at >= options.recheck_interval) return false;
    const bool piled_up =
        options.dead_findings_before_recheck > 0 &&
        dead_findings >= static_cast<std::uint64_t>(options.dead_findings_before_recheck);
    return !piled_up || now - checked_at < options.pileup_recheck_gap;
  }

  void answer(std::function<void(bool)> done, bool sees_internet) {
    asio::post(io, [weak = weak_from_this(), done = std::move(done), sees_internet] {
      if (weak.expired()) return;
      try {
        done(sees_internet);
      } catch (...) {
        // Nothing may escape into the event loop.
      }
    });
  }

  void answer_all(bool sees_internet) {
    std::vector<std::function<void(bool)>> waiting;
    waiting.swap(waiters);
    for (auto& done : waiting) answer(std::move(done), sees_internet);
  }

  void start_check() {
    checking = true;
    ++generation;
    answers_missing = options.domains.size();
    cancelled = false;
    dead_findings = 0;  // counted afresh from this check on
    const std::uint64_t this_check = generation;
    std::weak_ptr<Core> weak = shared_from_this();
    for (const std::string& domain : options.domains) {
      dns.resolve_mx_fresh(domain, [weak, this_check](MxAnswer mx) {
        if (const auto self = weak.lock()) self->on_answer(this_check, mx);
      });
    }
  }

  void on_answer(std::uint64_t check, const MxAnswer& mx) {
    if (!checking || check != generation) return;  // decided already, or abandoned
    if (mx.accepts_mail()) return finish(true);
    if (mx.error == kCancelled) cancelled = true;
    if (--answers_missing > 0) return;
    if (cancelled) {
      // The resolver dropped lookups (reconfigured): that says nothing about
      // what it sees. Ask once more; twice in a row, trust nothing meanwhile.
      if (!retried_after_cancel) {
        retried_after_cancel = true;
        start_check();
        return;
      }
      checking = false;
      retried_after_cancel = false;
      answer_all(false);
      return;
    }
    finish(false);
  }

  void finish(bool sees_internet) {
    checking = false;
    retried_after_cancel = false;
    stale = false;
    const bool entering_blind = sees_internet ? false : (!known || this->sees_internet);
    known = true;
    this->sees_internet = sees_internet;
    checked_at = Clock::now();
    {
      std::lock_guard<std::mutex> lock(state_mutex);
      published.known = true;
      published.sees_internet = sees_internet;
      if (entering_blind) ++published.episodes;
      published.last_check = std::chrono::system_clock::now();
    }
    answer_all(sees_internet);
  }

  asio::io_context& io;
  DnsResolver& dns;
  ResolverCanaryOptions options;

  bool known = false;
  bool sees_internet = false;
  bool stale = false;  // the domains changed since the last check
  Clock::time_point checked_at{};
  std::uint64_t dead_findings = 0;

  bool checking = false;
  std::uint64_t generation = 0;  // answers of older checks are ignored
  std::size_t answers_missing = 0;
  bool cancelled = false;
  bool retried_after_cancel = false;
  std::vector<std::function<void(bool)>> waiters;

  mutable std::mutex state_mutex;
  State published;
};

ResolverCanary::ResolverCanary(asio::io_context& io, DnsResolver& dns,
                               ResolverCanaryOptions options)
    : core_(std::make_shared<Core>(io, dns, std::move(options))) {}

ResolverCanary::~ResolverCanary() = default;

void ResolverCanary::set_options(ResolverCanaryOptions options) {
  Core& core = *core_;
  if (options.domains != core.options.domains) core.stale = true;
  core.options = std::move(options);
  if (core.options.domains.empty() && core.checking) {
    // The check is off now: whoever waits for the abandoned one may go on.
    core.checking = false;
    ++core.generation;
    core.answer_all(true);
  }
}

void ResolverCanary::recheck() { core_->stale = true; }

void ResolverCanary::when_known(std::function<void(bool sees_internet)> done) {
  Core& core = *core_;
  if (core.options.domains.empty()) return core.answer(std::move(done), true);
  if (!core.checking && core.fresh(Clock::now()))
    return core.answer(std::move(done), core.sees_internet);
  core.waiters.push_back(std::move(done));
  if (core.checking) return;  // joins the check in flight
  {
    std::lock_guard<std::mutex> lock(core.state_mutex);
    ++core.published.checks;
  }
  core.start_check();
}

void ResolverCanary::note_dead_finding() { ++core_->dead_findings; }

ResolverCanary::State ResolverCanary::state() const {
  std::lock_guard<std::mutex> lock(core_->state_mutex);
  return core_->published;
}

}  // namespace mailsentry
