// What the RDAP (HTTPS) and WHOIS clients have in common: a single request
// on a connection of its own that ends exactly once, by its answer, a
// failure, one deadline for the whole exchange, or cancel().
#pragma once

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <system_error>
#include <utility>

#include "net/checked_connect.hpp"

namespace mailsentry {

// Why a request has no answer, coarse enough to tell a server that cannot be
// reached from one that answered badly.
enum class RequestFailure {
  none,
  refused,      // the address policy refused every address
  unreachable,  // connect failed (TLS handshake too) or no complete answer in time
  broken,       // reset, closed mid-answer, or not the protocol spoken
  too_large,    // answer over the configured limit
  cancelled,
};

// "Connection refused" -> "connection refused", to read well after "host: ".
std::string lowercase_first(std::string text);

// `Response` has `std::string error` and `RequestFailure failure`.
template <typename Response>
class OneShotRequest : public CancellableOperation {
 public:
  void cancel() override { fail("cancelled", RequestFailure::cancelled); }

 protected:
  using Done = std::function<void(Response)>;

  OneShotRequest(asio::io_context& io, Done done) : deadline_(io), done_(std::move(done)) {}

  // Starts the clock; `self` (the derived request) stays alive until it runs out.
  void start_deadline(std::shared_ptr<OneShotRequest> self, std::chrono::milliseconds timeout) {
    deadline_.expires_after(timeout);
    deadline_.async_wait([self = std::move(self), timeout](const std::error_code& error) {
      if (!error) {
        self->fail("timeout after " + std::to_string(timeout.count()) + " ms",
                   RequestFailure::unreachable);
      }
    });
  }

  // The outcome of async_connect_allowed(): true when connected, else the
  // request has failed (refused by the policy, or unreachable).
  bool connected(const std::error_code& error, std::string refusal) {
    if (finished_) return false;
    if (!refusal.empty()) {
      fail(std::move(refusal), RequestFailure::refused);
      return false;
    }
    if (error) {
      fail(lowercase_first(error.message()), RequestFailure::unreachable);
      return false;
    }
    return true;
  }

  void fail(std::string message, RequestFailure failure) {
    Response response;
    response.error = std::move(message);
    response.failure = failure;
    finish(std::move(response));
  }

  // Only the first call counts; the connection is closed before `done` runs.
  void finish(Response response) {
    if (finished_) return;
    finished_ = true;
    deadline_.cancel();
    close_connection();
    Done done = std::move(done_);
    try {
      done(std::move(response));
    } catch (...) {
      // The caller's problem, but it must not unwind through asio's loop.
    }
  }

  bool finished() const { return finished_; }

 private:
  // Ends the exchange at once (no polite shutdown: one request per connection).
  virtual void close_connection() = 0;

  asio::steady_timer deadline_;
  Done done_;
  bool finished_ = false;
};

}  // namespace mailsentry
