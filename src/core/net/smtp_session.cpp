#include "net/smtp_session.hpp"

#include <openssl/ssl.h>

#include <algorithm>
#include <asio/connect.hpp>
#include <asio/error.hpp>
#include <asio/post.hpp>
#include <asio/write.hpp>
#include <utility>

namespace mailsentry {

namespace {

bool starts_with_ci(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char c = text[i];
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c != prefix[i]) return false;
  }
  return true;
}

// The first word of an EHLO keyword line ("SIZE 35882577" -> "SIZE").
bool keyword_is(std::string_view line, std::string_view keyword) {
  return starts_with_ci(line, keyword) &&
         (line.size() == keyword.size() || line[keyword.size()] == ' ' ||
          line[keyword.size()] == '=');
}

std::string brief(const SmtpReply& reply) {
  std::string text = std::to_string(reply.code);
  if (!reply.enhanced.empty()) text += " " + reply.enhanced;
  const std::string body = clean_reply_text(reply.text(), 200);
  if (!body.empty()) text += " " + body;
  return text;
}

TcpConnect classify_connect_error(SessionFailure failure, const std::error_code& error) {
  if (failure == SessionFailure::timeout) return TcpConnect::timed_out;
  if (failure == SessionFailure::aborted) return TcpConnect::not_attempted;
  // asio's own error category: compared with its enums, not std::errc.
  if (error == asio::error::connection_refused) return TcpConnect::refused;
  // A network without a route (IPv6 not set up) says nothing about port 25.
  if (error == asio::error::host_unreachable || error == asio::error::access_denied ||
      error == asio::error::no_permission)
    return TcpConnect::unreachable;
  return TcpConnect::failed;
}

}  // namespace

const char* describe(SessionFailure failure) {
  switch (failure) {
    case SessionFailure::none:
      return "ok";
    case SessionFailure::timeout:
      return "timeout";
    case SessionFailure::connection_error:
      return "connection error";
    case SessionFailure::malformed_reply:
      return "malformed reply";
    case SessionFailure::refused_greeting:
      return "greeting refused";
    case SessionFailure::refused_hello:
      return "EHLO/HELO refused";
    case SessionFailure::tls_unavailable:
      return "STARTTLS not offered";
    case SessionFailure::tls_failed:
      return "STARTTLS failed";
    case SessionFailure::protocol_error:
      return "protocol error";
    case SessionFailure::aborted:
      return "aborted";
  }
  return "unknown";
}

std::shared_ptr<SmtpSession> SmtpSession::create(asio::io_context& io,
                                                 std::shared_ptr<asio::ssl::context> tls_context,
                                                 SessionConfig config) {
  return std::shared_ptr<SmtpSession>(
      new SmtpSession(io, std::move(tls_context), std::move(config)));
}

SmtpSession::SmtpSession(asio::io_context& io, std::shared_ptr<asio::ssl::context> tls_context,
                         SessionConfig config)
    : io_(io),
      tls_context_(std::move(tls_context)),
      config_(std::move(config)),
      stream_(io, *tls_context_),
      timer_(io) {}

SmtpSession::~SmtpSession() {
  std::error_code ignored;
  stream_.lowest_layer().close(ignored);
}

std::vector<std::string> SmtpSession::take_transcript() {
  std::vector<std::string> lines;
  lines.swap(transcript_);
  return lines;
}

void SmtpSession::note(std::string line) {
  if (config_.log_transcript) transcript_.push_back(clean_reply_text(line, 1024));
}

void SmtpSession::note_reply(const SmtpReply& reply) {
  if (!config_.log_transcript) return;
  for (std::size_t i = 0; i < reply.lines.size(); ++i) {
    std::string line = "S: " + std::to_string(reply.code);
    line += (i + 1 == reply.lines.size()) ? ' ' : '-';
    if (!reply.enhanced.empty()) line += reply.enhanced + (reply.lines[i].empty() ? "" : " ");
    line += reply.lines[i];
    note(std::move(line));
  }
}

// ---------------------------------------------------------------- timers ---

void SmtpSession::arm_timer() {
  const std::uint64_t generation = ++timer_generation_;
  timer_.expires_after(step_timeout_);
  std::weak_ptr<SmtpSession> weak = shared_from_this();
  timer_.async_wait([weak, generation](const std::error_code& error) {
    const auto self = weak.lock();
    if (!self || error || generation != self->timer_generation_) return;
    // Closing the socket ends the pending operation; its handler reports the timeout.
    self->timed_out_ = true;
    self->close_socket();
  });
}

void SmtpSession::disarm_timer() {
  ++timer_generation_;
  timer_.cancel();
}

void SmtpSession::close_socket() {
  std::error_code ignored;
  auto& socket = stream_.lowest_layer();
  if (socket.is_open()) {
    socket.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
  }
  closed_ = true;
}

void SmtpSession::close() {
  disarm_timer();
  broken_ = true;
  close_socket();
}

SessionFailure SmtpSession::failure_for(const std::error_code& error, std::string& detail) const {
  if (timed_out_) {
    detail = "timeout after " + std::to_string(step_timeout_.count()) + " ms waiting for " +
             exchange_what_;
    return SessionFailure::timeout;
  }
  if (closed_) {
    detail = "session closed";
    return SessionFailure::aborted;
  }
  if (error == asio::error::eof) {
    detail = "connection closed by the server while waiting for " + exchange_what_;
  } else {
    detail = error.message() + " (" + exchange_what_ + ")";
  }
  return SessionFailure::connection_error;
}

// -------------------------------------------------------------- exchange ---

void SmtpSession::exchange(std::vector<std::string> commands, std::size_t expected,
                           std::string what, ExchangeHandler done) {
  busy_ = true;
  exchange_done_ = std::move(done);
  exchange_what_ = std::move(what);
  replies_.clear();
  expected_replies_ = expected;
  write_buffer_.clear();
  for (const std::string& command : commands) {
    // A line break inside an argument would smuggle in a command of its own.
    if (command.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
      auto self = shared_from_this();
      asio::post(io_, [self] {
        self->finish_exchange(SessionFailure::protocol_error,
                              "refusing to send a command containing a line break");
      });
      return;
    }
  }
  for (const std::string& command : commands) {
    note("C: " + command);
    write_buffer_ += command;
    write_buffer_ += "\r\n";
  }
  arm_timer();
  if (write_buffer_.empty()) {
    read_replies();
    return;
  }
  auto self = shared_from_this();
  auto on_written = [self](const std::error_code& error, std::size_t) {
    try {
      if (error) {
        std::string detail;
        const SessionFailure failure = self->failure_for(error, detail);
        self->finish_exchange(failure, std::move(detail));
        return;
      }
      self->read_replies();
    } catch (...) {
      self->finish_exchange(SessionFailure::protocol_error, "internal error");
    }
  };
  if (tls_active_) {
    asio::async_write(stream_, asio::buffer(write_buffer_), std::move(on_written));
  } else {
    asio::async_write(stream_.next_layer(), asio::buffer(write_buffer_), std::move(on_written));
  }
}

void SmtpSession::read_replies() {
  // Replies already buffered (pipelining) need no read.
  while (replies_.size() < expected_replies_) {
    SmtpReply reply;
    const SmtpReplyParser::Status status = parser_.next(reply);
    if (status == SmtpReplyParser::Status::malformed) {
      note("S: <malformed: " + parser_.malformed_reason() + ">");
      finish_exchange(SessionFailure::malformed_reply, parser_.malformed_reason());
      return;
    }
    if (status == SmtpReplyParser::Status::need_more) break;
    note_reply(reply);
    replies_.push_back(std::move(reply));
    if (replies_.size() < expected_replies_) arm_timer();  // each reply has its own timeout
  }
  if (replies_.size() >= expected_replies_) {
    finish_exchange(SessionFailure::none, {});
    return;
  }
  auto self = shared_from_this();
  auto on_read = [self](const std::error_code& error, std::size_t bytes) {
    try {
      if (error) {
        std::string detail;
        const SessionFailure failure = self->failure_for(error, detail);
        self->finish_exchange(failure, std::move(detail));
        return;
      }
      SmtpReply reply;
      const auto status =
          self->parser_.feed(std::string_view(self->read_buffer_.data(), bytes), reply);
      if (status == SmtpReplyParser::Status::malformed) {
        self->note("S: <malformed: " + self->parser_.malformed_reason() + ">");
        self->finish_exchange(SessionFailure::malformed_reply, self->parser_.malformed_reason());
        return;
      }
      if (status == SmtpReplyParser::Status::reply) {
        self->note_reply(reply);
        self->replies_.push_back(std::move(reply));
        if (self->replies_.size() < self->expected_replies_) self->arm_timer();
      }
      self->read_replies();
    } catch (...) {
      self->finish_exchange(SessionFailure::protocol_error, "internal error");
    }
  };
  if (tls_active_) {
    stream_.async_read_some(asio::buffer(read_buffer_), std::move(on_read));
  } else {
    stream_.next_layer().async_read_some(asio::buffer(read_buffer_), std::move(on_read));
  }
}

void SmtpSession::finish_exchange(SessionFailure failure, std::string detail) {
  if (!exchange_done_) return;  // already finished: exactly once
  disarm_timer();
  busy_ = false;
  if (failure != SessionFailure::none) {
    broken_ = true;
    close_socket();
  }
  ExchangeHandler done = std::move(exchange_done_);
  exchange_done_ = nullptr;
  std::vector<SmtpReply> replies = std::move(replies_);
  replies_.clear();
  done(failure, std::move(detail), std::move(replies));
}

// ------------------------------------------------------------------ open ---

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
  exchange({}, 1, "the greeting",
           [this](SessionFailure failure, std::string detail, std::vector<SmtpReply> replies) {
             after_banner(failure, std::move(detail), std::move(replies));
           });
}

void SmtpSession::after_banner(SessionFailure failure, std::string detail,
                               std::vector<SmtpReply> replies) {
  if (failure != SessionFailure::none) {
    finish_open(failure, std::move(detail));
    return;
  }
  const SmtpReply& banner = replies.front();
  greeted_ = true;
  if (banner.code != 220) {
    finish_open(SessionFailure::refused_greeting, "greeting refused: " + brief(banner), banner);
    return;
  }
  send_ehlo();
}

void SmtpSession::send_ehlo() {
  exchange({"EHLO " + config_.helo_name}, 1, "the EHLO reply",
           [this](SessionFailure failure, std::string detail, std::vector<SmtpReply> replies) {
             after_ehlo(failure, std::move(detail), std::move(replies));
           });
}

void SmtpSession::after_ehlo(SessionFailure failure, std::string detail,
                             std::vector<SmtpReply> replies) {
  if (failure != SessionFailure::none) {
    finish_open(failure, std::move(detail));
    return;
  }
  const SmtpReply& reply = replies.front();
  if (reply.code == 250) {
    capabilities_ = SmtpCapabilities{};
    capabilities_.esmtp = true;
    for (std::size_t i = 1; i < reply.lines.size(); ++i) {
      const std::string& line = reply.lines[i];
      if (keyword_is(line, "PIPELINING")) capabilities_.pipelining = true;
      if (keyword_is(line, "STARTTLS")) capabilities_.starttls = true;
      if (keyword_is(line, "SMTPUTF8")) capabilities_.smtputf8 = true;
    }
    if (!tls_active_ && (config_.try_starttls || config_.require_starttls)) {
      if (capabilities_.starttls) {
        start_tls();
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
    exchange({"HELO " + config_.helo_name}, 1, "the HELO reply",
             [this](SessionFailure helo_failure, std::string helo_detail,
                    std::vector<SmtpReply> helo_replies) {
               after_helo(helo_failure, std::move(helo_detail), std::move(helo_replies));
             });
    return;
  }
  finish_open(SessionFailure::refused_hello, "EHLO refused: " + brief(reply), reply);
}

void SmtpSession::after_helo(SessionFailure failure, std::string detail,
                             std::vector<SmtpReply> replies) {
  if (failure != SessionFailure::none) {
    finish_open(failure, std::move(detail));
    return;
  }
  const SmtpReply& reply = replies.front();
  if (reply.code != 250) {
    finish_open(SessionFailure::refused_hello, "EHLO and HELO refused: " + brief(reply), reply);
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

void SmtpSession::start_tls() {
  exchange({"STARTTLS"}, 1, "the STARTTLS reply",
           [this](SessionFailure failure, std::string detail, std::vector<SmtpReply> replies) {
             if (failure != SessionFailure::none) {
               finish_open(failure, std::move(detail));
               return;
             }
             const SmtpReply& reply = replies.front();
             if (reply.code != 220) {
               if (config_.require_starttls) {
                 finish_open(SessionFailure::tls_failed, "STARTTLS refused: " + brief(reply),
                             reply);
               } else {
                 finish_open(SessionFailure::none, {});  // opportunistic: go on in plain text
               }
               return;
             }
             // Anything the server sent after its 220 predates the handshake:
             // drop it rather than trust it (STARTTLS command injection).
             parser_ = SmtpReplyParser{};
             if (!config_.server_name.empty()) {
               SSL_set_tlsext_host_name(stream_.native_handle(), config_.server_name.c_str());
             }
             busy_ = true;
             exchange_what_ = "the TLS handshake";
             arm_timer();
             auto self = shared_from_this();
             stream_.async_handshake(
                 asio::ssl::stream_base::client, [self](const std::error_code& error) {
                   try {
                     self->after_handshake(error);
                   } catch (...) {
                     self->finish_open(SessionFailure::tls_failed, "internal error");
                   }
                 });
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

// ----------------------------------------------------------- transaction ---

void SmtpSession::transact(std::vector<std::string> recipients, bool smtputf8,
                           std::chrono::milliseconds step_timeout, TransactionHandler done,
                           bool continue_open) {
  transaction_done_ = std::move(done);
  auto self = shared_from_this();
  if (!usable() || recipients.empty()) {
    sent_rset_ = false;
    sent_mail_ = true;  // reported as a MAIL FROM without a reply
    asio::post(io_, [self] {
      self->finish_transaction(SessionFailure::protocol_error, "session not usable", {}, 0);
    });
    return;
  }
  step_timeout_ = step_timeout;
  const bool joining = continue_open && transaction_open_ && open_smtputf8_ == smtputf8;
  std::vector<std::string> commands;
  sent_rset_ = !joining && transactions_ > 0;
  sent_mail_ = !joining;
  sending_smtputf8_ = smtputf8;
  if (joining) {
    note("* joining the open transaction of MAIL FROM:<" + config_.mail_from + ">" +
         (smtputf8 ? " SMTPUTF8" : ""));
  } else {
    ++transactions_;
    transaction_open_ = false;  // whatever was open ends with the RSET
    open_mail_reply_.reset();
    if (sent_rset_) commands.emplace_back("RSET");
    commands.push_back("MAIL FROM:<" + config_.mail_from + ">" + (smtputf8 ? " SMTPUTF8" : ""));
  }
  for (const std::string& recipient : recipients) commands.push_back("RCPT TO:<" + recipient + ">");
  const std::size_t count = recipients.size();
  if (capabilities_.pipelining) {
    const std::size_t expected = commands.size();
    exchange(
        std::move(commands), expected, "the MAIL/RCPT replies",
        [this, count](SessionFailure failure, std::string detail, std::vector<SmtpReply> replies) {
          finish_transaction(failure, std::move(detail), replies, count);
        });
  } else {
    run_sequential(std::move(commands), 0, {}, count);
  }
}

void SmtpSession::run_sequential(std::vector<std::string> commands, std::size_t index,
                                 std::vector<SmtpReply> replies, std::size_t recipients) {
  if (index >= commands.size()) {
    finish_transaction(SessionFailure::none, {}, replies, recipients);
    return;
  }
  std::string command = commands[index];
  const std::string what = "the reply to " + command.substr(0, command.find(' '));
  exchange(
      {std::move(command)}, 1, what,
      [this, commands = std::move(commands), index, replies = std::move(replies), recipients](
          SessionFailure failure, std::string detail, std::vector<SmtpReply> step_replies) mutable {
        if (failure != SessionFailure::none) {
          finish_transaction(failure, std::move(detail), replies, recipients);
          return;
        }
        const int code = step_replies.front().code;
        replies.push_back(std::move(step_replies.front()));
        const bool is_rcpt = starts_with_ci(commands[index], "RCPT");
        // RSET or MAIL refused, or the server is closing: stop here.
        if ((!is_rcpt && code / 100 != 2) || code == 421) {
          finish_transaction(SessionFailure::none, {}, replies, recipients);
          return;
        }
        run_sequential(std::move(commands), index + 1, std::move(replies), recipients);
      });
}

void SmtpSession::finish_transaction(SessionFailure failure, std::string detail,
                                     const std::vector<SmtpReply>& replies,
                                     std::size_t recipients) {
  if (!transaction_done_) return;
  TransactionResult result;
  result.failure = failure;
  result.detail = std::move(detail);
  // Layout of `replies`: [RSET] [MAIL] RCPT...
  const std::size_t offset = sent_rset_ ? 1 : 0;
  const bool rset_refused = sent_rset_ && !replies.empty() && replies.front().code != 250;
  if (rset_refused && result.failure == SessionFailure::none) {
    result.failure = SessionFailure::protocol_error;
    result.detail = "RSET refused: " + brief(replies.front());
  }
  std::size_t first_rcpt = replies.size();
  if (rset_refused) {
    // Nothing after a refused RSET answers anything.
  } else if (!sent_mail_) {
    result.continued = true;
    result.mail_reply = open_mail_reply_;
    first_rcpt = 0;
  } else if (offset < replies.size()) {
    result.mail_reply = replies[offset];
    first_rcpt = offset + 1;
    if (result.mail_reply->code / 100 == 2) {
      transaction_open_ = true;
      open_smtputf8_ = sending_smtputf8_;
      open_mail_reply_ = result.mail_reply;
    }
  }
  // After a failure too: the replies that did come answer their recipients.
  if (result.mail_reply && result.mail_reply->code / 100 == 2) {
    for (std::size_t i = first_rcpt; i < replies.size() && result.rcpt_replies.size() < recipients;
         ++i) {
      result.rcpt_replies.push_back(replies[i]);
      ++recipients_sent_;
      if (replies[i].code >= 500) ++rejections_;
    }
  }
  for (const SmtpReply& reply : replies) {
    if (reply.code == 421) broken_ = true;  // the server is closing the channel
  }
  if (result.failure != SessionFailure::none) broken_ = true;
  if (broken_) transaction_open_ = false;
  last_used_ = Clock::now();
  TransactionHandler done = std::move(transaction_done_);
  transaction_done_ = nullptr;
  try {
    done(std::move(result));
  } catch (...) {
    // The owner's handler must not throw into the event loop.
  }
}

// ------------------------------------------------------------------ quit ---

void SmtpSession::quit(std::chrono::milliseconds timeout, std::function<void()> closed) {
  const auto notify = [closed] {
    try {
      if (closed) closed();
    } catch (...) {
    }
  };
  if (closed_ || busy_ || !ready_) {
    close();
    asio::post(io_, notify);
    return;
  }
  broken_ = true;  // never reused once QUIT is on its way
  step_timeout_ = timeout;
  exchange({"QUIT"}, 1, "the QUIT reply",
           [this, notify](SessionFailure, std::string, std::vector<SmtpReply>) {
             close();
             notify();
           });
}

}  // namespace mailsentry
