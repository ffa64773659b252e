// SmtpSession::open(): connect, greeting, EHLO (HELO when refused) and
// STARTTLS, each step one exchange whose reply decides the next.
#include <openssl/ssl.h>

#include <asio/post.hpp>
#include <utility>

#include "net/smtp_session.hpp"

namespace mailsentry {

void SmtpSession::open(const asio::ip::tcp::endpoint& endpoint,
                       const std::optional<asio::ip::address>& source,
                       std::chrono::milliseconds step_timeout, OpenHandler done) {
  open_done_ = std::move(done);
  step_timeout_ = step_timeout;
  busy_ = true;
  exchange_what_ = "connect to " + endpoint.address().to_string();
  peer_ = endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
  auto self = shared_from_this();

  std::error_code error;
  auto& socket = stream_.next_layer();
  socket.open(endpoint.protocol(), error);
  if (!error && source) socket.bind(asio::ip::tcp::endpoint(*source, 0), error);
  if (error) {
    // Never call back from inside open(): report from the event loop.
    asio::post(io_, [self, error] { self->after_connect(error, false); });
    return;
  }
  arm_timer();
  socket.async_connect(endpoint, [self](const std::error_code& connect_error) {
    try {
      self->after_connect(connect_error, true);
    } catch (...) {
      self->finish_open(SessionFailure::protocol_error, "internal error");
    }
  });
}

void SmtpSession::after_connect(const std::error_code& error, bool attempted) {
  disarm_timer();
  if (error) {
    std::string detail;
    const SessionFailure failure = failure_for(error, detail);
    if (attempted) tcp_ = classify_connect_error(failure, error);
    finish_open(failure, std::move(detail));
    return;
  }
  tcp_ = TcpConnect::connected;
  open_step({}, "the greeting", &SmtpSession::after_banner);
}

void SmtpSession::open_step(std::string command, std::string what, OpenStep next) {
  std::vector<std::string> commands;
  if (!command.empty()) commands.push_back(std::move(command));
  exchange(
      std::move(commands), 1, std::move(what),
      [this, next](SessionFailure failure, std::string detail, std::vector<SmtpReply> replies) {
        if (failure != SessionFailure::none) {
          finish_open(failure, std::move(detail));
          return;
        }
        (this->*next)(replies.front());
      });
}

void SmtpSession::after_banner(const SmtpReply& banner) {
  greeted_ = true;
  if (banner.code != 220) {
    finish_open(SessionFailure::refused_greeting, "greeting refused: " + brief_reply(banner),
                banner);
    return;
  }
  send_ehlo();
}

void SmtpSession::send_ehlo() {
  open_step("EHLO " + config_.helo_name, "the EHLO reply", &SmtpSession::after_ehlo);
}

void SmtpSession::after_ehlo(const SmtpReply& reply) {
  if (reply.code == 250) {
    capabilities_ = capabilities_from_ehlo(reply);
    if (!tls_active_ && (config_.try_starttls || config_.require_starttls)) {
      if (capabilities_.starttls) {
        open_step("STARTTLS", "the STARTTLS reply", &SmtpSession::after_starttls);
        return;
      }
      if (config_.require_starttls) {
        finish_open(SessionFailure::tls_unavailable,
                    "STARTTLS required but not offered by " + config_.server_name);
        return;
      }
    }
    finish_open(SessionFailure::none, {});
    return;
  }
  // Old servers refuse EHLO with 5xx: fall back to HELO (not after TLS).
  if (reply.code >= 500 && !after_tls_) {
    open_step("HELO " + config_.helo_name, "the HELO reply", &SmtpSession::after_helo);
    return;
  }
  finish_open(SessionFailure::refused_hello, "EHLO refused: " + brief_reply(reply), reply);
}

void SmtpSession::after_helo(const SmtpReply& reply) {
  if (reply.code != 250) {
    finish_open(SessionFailure::refused_hello, "EHLO and HELO refused: " + brief_reply(reply),
                reply);
    return;
  }
  capabilities_ = SmtpCapabilities{};
  if (config_.require_starttls) {
    finish_open(SessionFailure::tls_unavailable,
                "STARTTLS required but " + config_.server_name + " does not speak ESMTP");
    return;
  }
  finish_open(SessionFailure::none, {});
}

void SmtpSession::after_starttls(const SmtpReply& reply) {
  if (reply.code != 220) {
    if (config_.require_starttls) {
      finish_open(SessionFailure::tls_failed, "STARTTLS refused: " + brief_reply(reply), reply);
    } else {
      finish_open(SessionFailure::none, {});  // opportunistic: go on in plain text
    }
    return;
  }
  // Anything the server sent after its 220 predates the handshake: drop it
  // rather than trust it (STARTTLS command injection).
  parser_ = SmtpReplyParser{};
  if (!config_.server_name.empty()) {
    SSL_set_tlsext_host_name(stream_.native_handle(), config_.server_name.c_str());
  }
  busy_ = true;
  exchange_what_ = "the TLS handshake";
  arm_timer();
  auto self = shared_from_this();
  stream_.async_handshake(asio::ssl::stream_base::client, [self](const std::error_code& error) {
    try {
      self->after_handshake(error);
    } catch (...) {
      self->finish_open(SessionFailure::tls_failed, "internal error");
    }
  });
}

void SmtpSession::after_handshake(const std::error_code& error) {
  disarm_timer();
  if (error) {
    std::string detail;
    SessionFailure failure = failure_for(error, detail);
    if (failure == SessionFailure::connection_error) {
      failure = SessionFailure::tls_failed;
      detail = "TLS handshake failed: " + error.message();
    }
    finish_open(failure, std::move(detail));
    return;
  }
  tls_active_ = true;
  after_tls_ = true;
  note("* TLS established");
  send_ehlo();  // capabilities may differ after TLS (RFC 3207)
}

void SmtpSession::finish_open(SessionFailure failure, std::string detail,
                              std::optional<SmtpReply> reply) {
  if (!open_done_) return;
  busy_ = false;
  if (failure == SessionFailure::none) {
    ready_ = true;
  } else {
    broken_ = true;
    disarm_timer();
    close_socket();
  }
  last_used_ = Clock::now();
  OpenHandler done = std::move(open_done_);
  open_done_ = nullptr;
  OpenResult result;
  result.failure = failure;
  result.detail = std::move(detail);
  result.reply = std::move(reply);
  result.tcp = tcp_;
  result.greeted = greeted_;
  try {
    done(std::move(result));
  } catch (...) {
    // The owner's handler must not throw into the event loop.
  }
}

}  // namespace mailsentry
