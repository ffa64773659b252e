#include "net/network_engine.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <tuple>

namespace mailsentry {

namespace {

// Owns an eventfd: the I/O thread writes to it, the main thread waits on it.
class EventFd {
 public:
  EventFd() : fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
  }
  ~EventFd() { close(fd_); }
  EventFd(const EventFd&) = delete;
  EventFd& operator=(const EventFd&) = delete;
  int fd() const { return fd_; }
  void signal() {
    const std::uint64_t one = 1;
    // EAGAIN means the counter is saturated: it is readable anyway.
    [[maybe_unused]] ssize_t written = write(fd_, &one, sizeof one);
  }
  void reset() {
    std::uint64_t value;
    [[maybe_unused]] ssize_t got = read(fd_, &value, sizeof value);
  }

 private:
  int fd_;
};

// Blocks every signal in the calling thread for its lifetime, so a thread
// started meanwhile inherits a full mask.
class AllSignalsBlocked {
 public:
  AllSignalsBlocked() {
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &saved_);
  }
  ~AllSignalsBlocked() { pthread_sigmask(SIG_SETMASK, &saved_, nullptr); }

 private:
  sigset_t saved_;
};

}  // namespace

struct NetworkEngine::Impl {
  // Identical requests share one verification; the rest of a request follows
  // from these (domain, registrable domain) or is per-session tuning.
  using RequestKey = std::tuple<std::string, Depth, bool>;  // address, depth, mx_only

  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
  NetworkEngineConfig config;
  std::unique_ptr<DnsResolver> dns;
  std::unique_ptr<SmtpProber> smtp;
  std::unique_ptr<DomainAgeLookup> domain_age;
  std::unique_ptr<ResolverCanary> canary;
  std::unique_ptr<NetworkVerifier> verifier;

  EventFd completions_ready;
  std::mutex completions_mutex;
  std::vector<std::pair<std::uint64_t, NetworkFacts>> completions;
  std::vector<LateDomainAge> late_ages;
  std::atomic<std::uint64_t> late_ages_count{0};
  std::map<RequestKey, std::vector<std::uint64_t>> in_flight;  // I/O thread only: tags waiting
  std::atomic<std::uint64_t> submitted{0};
  std::atomic<std::uint64_t> completed{0};
  std::thread thread;

  explicit Impl(NetworkEngineConfig initial) : config(std::move(initial)) {
    dns = std::make_unique<DnsResolver>(io, config.dns);
    HostResolver resolve_host = [this](const std::string& host,
                                       std::function<void(AddressAnswer)> done) {
      dns->resolve_addresses(host, std::move(done));
    };
    smtp = std::make_unique<SmtpProber>(io, resolve_host, config.smtp);
    domain_age = std::make_unique<DomainAgeLookup>(io, resolve_host, config.domain_age);
    canary = std::make_unique<ResolverCanary>(io, *dns, config.canary);
    verifier =
        std::make_unique<NetworkVerifier>(io, *dns, *smtp, *domain_age, *canary, config.network);
    verifier->on_late_domain_age([this](LateDomainAge late) {
      {
        std::lock_guard<std::mutex> lock(completions_mutex);
        late_ages.push_back(std::move(late));
      }
      late_ages_count.fetch_add(1, std::memory_order_relaxed);
      completions_ready.signal();
    });
  }

  void run() noexcept {
    // A handler that throws must not take the worker down: log-free recovery,
    // the affected request's callback is the component's responsibility.
    for (;;) {
      try {
        io.run();
        return;
      } catch (...) {
        // Keep serving the other requests.
      }
    }
  }

  void start(std::uint64_t tag, NetworkRequest request) {
    RequestKey key{request.address, request.depth, request.mx_only};
    auto [running, first] = in_flight.try_emplace(key);
    running->second.push_back(tag);
    if (!first) return;  // joined the identical verification under way
    try {
      verifier->verify(std::move(request),
                       [this, key](NetworkFacts facts) { finish(key, std::move(facts)); });
    } catch (...) {
      in_flight.erase(key);  // else later identical requests would wait on it forever
      throw;
    }
  }

  void finish(const RequestKey& key, NetworkFacts facts) {
    auto running = in_flight.find(key);
    if (running == in_flight.end()) return;
    const std::vector<std::uint64_t> tags = std::move(running->second);
    in_flight.erase(running);
    {
      std::lock_guard<std::mutex> lock(completions_mutex);
      for (std::size_t i = 0; i + 1 < tags.size(); ++i) completions.emplace_back(tags[i], facts);
      completions.emplace_back(tags.back(), std::move(facts));
    }
    completed.fetch_add(tags.size(), std::memory_order_relaxed);
    completions_ready.signal();
  }

  void restore(const KnownDomainFacts& known) {
    if (known.domain.empty()) return;
    if (known.mx) {
      if (std::optional<MxAnswer> answer = mx_answer_from_facts(known.domain, *known.mx))
        dns->seed_mx(known.domain, std::move(*answer), known.mx->valid_for);
    }
    // The memory's own setting bounds restored answers too (0 turns it off).
    // The prober posts this; it still lands before any later probe, which
    // always waits for a posted MX answer first.
    const auto catch_all_ttl = std::min(known.catch_all_valid_for, config.smtp.catch_all_memory);
    if (known.catch_all && catch_all_ttl > std::chrono::milliseconds::zero())
      smtp->remember_catch_all(known.domain, *known.catch_all, catch_all_ttl);
    if (known.domain_created_days && !known.registrable_domain.empty()) {
      domain_age->remember(known.registrable_domain, *known.domain_created_days,
                           known.domain_age_valid_for);
    }
  }
};

NetworkEngine::NetworkEngine(NetworkEngineConfig config)
    : impl_(std::make_unique<Impl>(std::move(config))) {
  AllSignalsBlocked blocked;
  impl_->thread = std::thread([impl = impl_.get()] { impl->run(); });
}

NetworkEngine::~NetworkEngine() {
  // Components are destroyed on the I/O thread's loop before it stops, so
  // their handlers never run against freed state.
  std::promise<void> torn_down;
  auto done = torn_down.get_future();
  asio::post(impl_->io, [impl = impl_.get(), &torn_down] {
    // Stopped first: handlers already queued (a DNS answer being delivered,
    // a probe's completion) call into the components and must never run
    // after them. They are destroyed, not run, with the io_context.
    impl->io.stop();
    // The prober shuts down in its destructor, at once (its shutdown() would
    // post to the stopped loop).
    impl->verifier.reset();
    impl->canary.reset();
    impl->domain_age.reset();
    impl->smtp.reset();
    impl->dns.reset();
    torn_down.set_value();
  });
  if (done.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
    // The loop is stuck: stop it regardless.
  }
  impl_->work.reset();
  impl_->io.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

void NetworkEngine::submit(std::uint64_t tag, NetworkRequest request) {
  impl_->submitted.fetch_add(1, std::memory_order_relaxed);
  asio::post(impl_->io, [impl = impl_.get(), tag, request = std::move(request)]() mutable {
    if (impl->verifier) impl->start(tag, std::move(request));
  });
}

void NetworkEngine::restore(std::vector<KnownDomainFacts> facts) {
  asio::post(impl_->io, [impl = impl_.get(), facts = std::move(facts)] {
    if (!impl->verifier) return;
    for (const KnownDomainFacts& known : facts) impl->restore(known);
  });
}

void NetworkEngine::restore_breakers(
    std::vector<std::pair<std::string, std::chrono::milliseconds>> open) {
  asio::post(impl_->io, [impl = impl_.get(), open = std::move(open)] {
    if (!impl->smtp) return;
    for (const auto& [host, remaining] : open) impl->smtp->restore_breaker(host, remaining);
  });
}

void NetworkEngine::reconfigure(NetworkEngineConfig config) {
  asio::post(impl_->io, [impl = impl_.get(), config = std::move(config)]() mutable {
    if (!impl->verifier) return;
    impl->config = std::move(config);
    impl->dns->reconfigure(impl->config.dns);
    impl->smtp->set_options(impl->config.smtp);
    impl->domain_age->set_options(impl->config.domain_age);
    impl->canary->set_options(impl->config.canary);
    impl->canary->recheck();  // the resolver may be another one now
    impl->verifier->set_options(impl->config.network);
  });
}

int NetworkEngine::completion_fd() const { return impl_->completions_ready.fd(); }

std::vector<std::pair<std::uint64_t, NetworkFacts>> NetworkEngine::take_completions() {
  impl_->completions_ready.reset();
  std::lock_guard<std::mutex> lock(impl_->completions_mutex);
  std::vector<std::pair<std::uint64_t, NetworkFacts>> taken;
  taken.swap(impl_->completions);
  return taken;
}

std::vector<LateDomainAge> NetworkEngine::take_late_domain_ages() {
  std::lock_guard<std::mutex> lock(impl_->completions_mutex);
  std::vector<LateDomainAge> taken;
  taken.swap(impl_->late_ages);
  return taken;
}

NetworkEngine::Stats NetworkEngine::stats() {
  auto promise = std::make_shared<std::promise<Stats>>();
  auto future = promise->get_future();
  asio::post(impl_->io, [impl = impl_.get(), promise] {
    Stats stats;
    if (impl->dns) stats.dns = impl->dns->stats();
    if (impl->smtp) stats.mx = impl->smtp->stats();
    if (impl->smtp) stats.outbound = impl->smtp->outbound_state();
    if (impl->canary) stats.resolver = impl->canary->state();
    if (impl->domain_age) stats.registries = impl->domain_age->registry_stats();
    promise->set_value(std::move(stats));
  });
  Stats stats;
  if (future.wait_for(std::chrono::milliseconds(500)) == std::future_status::ready)
    stats = future.get();
  stats.submitted = impl_->submitted.load(std::memory_order_relaxed);
  stats.completed = impl_->completed.load(std::memory_order_relaxed);
  stats.in_flight = stats.submitted - stats.completed;
  stats.late_domain_ages = impl_->late_ages_count.load(std::memory_order_relaxed);
  return stats;
}

}  // namespace mailsentry
