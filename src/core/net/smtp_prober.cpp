#include "net/smtp_prober.hpp"

#include <asio/post.hpp>
#include <utility>

#include "net/prober_core.hpp"

namespace mailsentry {

// Every call but the statistics is posted to the io_context thread, where
// the core lives; nothing may throw into the event loop.

struct SmtpProber::Impl {
  asio::io_context& io;
  std::shared_ptr<ProberCore> core;
};

SmtpProber::SmtpProber(asio::io_context& io, HostResolver resolve_host, SmtpOptions options)
    : impl_(std::make_unique<Impl>(Impl{
          io, std::make_shared<ProberCore>(io, std::move(resolve_host), std::move(options))})) {}

SmtpProber::~SmtpProber() {
  // Runs on the io thread or with the io_context stopped: pending callbacks
  // are posted, handlers still in flight find the core shut down.
  try {
    impl_->core->shutdown();
  } catch (...) {
  }
}

void SmtpProber::probe(ProbeRequest request, std::function<void(ProbeResult)> done) {
  asio::post(impl_->io,
             [core = impl_->core, request = std::move(request), done = std::move(done)]() mutable {
               try {
                 core->start(std::move(request), std::move(done));
               } catch (...) {
                 // start() reports through `done`; an allocation failure here has nowhere to go.
               }
             });
}

void SmtpProber::set_options(SmtpOptions options) {
  asio::post(impl_->io, [core = impl_->core, options = std::move(options)]() mutable {
    try {
      core->set_options(std::move(options));
    } catch (...) {
    }
  });
}

void SmtpProber::remember_catch_all(std::string domain, bool catch_all,
                                    std::chrono::milliseconds ttl) {
  asio::post(impl_->io, [core = impl_->core, domain = std::move(domain), catch_all, ttl] {
    try {
      core->remember_catch_all(domain, catch_all, ttl);
    } catch (...) {
    }
  });
}

void SmtpProber::restore_breaker(std::string host, std::chrono::milliseconds remaining) {
  asio::post(impl_->io, [core = impl_->core, host = std::move(host), remaining] {
    try {
      core->restore_breaker(host, remaining);
    } catch (...) {
    }
  });
}

void SmtpProber::shutdown() {
  asio::post(impl_->io, [core = impl_->core] {
    try {
      core->shutdown();
    } catch (...) {
    }
  });
}

std::vector<SmtpProber::MxStats> SmtpProber::stats() const { return impl_->core->stats(); }

SmtpProber::OutboundState SmtpProber::outbound_state() const {
  return impl_->core->outbound_state();
}

}  // namespace mailsentry
