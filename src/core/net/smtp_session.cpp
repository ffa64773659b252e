// SmtpSession: the exchange of commands and replies, transactions and
// QUIT. The opening dialogue is in smtp_session_open.cpp.
#include "net/smtp_session.hpp"

#include <algorithm>
#include <asio/error.hpp>
#include <asio/post.hpp>
#include <asio/write.hpp>
#include <utility>

namespace mailsentry {

std::shared_ptr<SmtpSession> SmtpSession::create(asio::io_context& io,
                                                 std::shared_ptr<asio::ssl::context> tls_context,
                                                 SessionConfig config) {
  return std::make_shared<SmtpSession>(CreateKey(), io, std::move(tls_context), std::move(config));
}

SmtpSession::SmtpSession(CreateKey, asio::io_context& io,
                         std::shared_ptr<asio::ssl::context> tls_context, SessionConfig config)
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

void SmtpSession::abandon() {
  close();
  exchange_done_ = nullptr;
  open_done_ = nullptr;
  transaction_done_ = nullptr;
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
      if (error) return self->fail_exchange(error);
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
      if (error) return self->fail_exchange(error);
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

void SmtpSession::fail_exchange(const std::error_code& error) {
  std::string detail;
  const SessionFailure failure = failure_for(error, detail);
  finish_exchange(failure, std::move(detail));
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
        const bool is_rcpt = commands[index].rfind("RCPT", 0) == 0;  // built here, upper case
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
  TransactionSent sent;
  sent.rset = sent_rset_;
  sent.mail = sent_mail_;
  sent.recipients = recipients;
  sent.open_mail_reply = open_mail_reply_;
  TransactionResult result = read_transaction_replies(sent, failure, std::move(detail), replies);
  if (opened_transaction(result)) {
    transaction_open_ = true;
    open_smtputf8_ = sending_smtputf8_;
    open_mail_reply_ = result.mail_reply;
  }
  for (const SmtpReply& reply : result.rcpt_replies) {
    ++recipients_sent_;
    if (reply.code >= 500) ++rejections_;
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
