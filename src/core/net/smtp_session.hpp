// One SMTP connection: connect, greeting, EHLO/HELO, STARTTLS, then any
// number of MAIL FROM + RCPT TO transactions (RSET between them) and QUIT.
// A transaction stays open after its RCPTs: later recipients may join it
// without RSET and MAIL FROM (transact(..., continue_open = true)).
// DATA is never sent. Every step has its own timeout. Callbacks run from Asio
// handlers (never from inside the call that started them), exactly once.
#pragma once

#include <array>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ssl/context.hpp>
#include <asio/ssl/stream.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "net/smtp_capabilities.hpp"
#include "net/smtp_reply.hpp"
#include "net/smtp_session_outcome.hpp"
#include "net/smtp_transaction_replies.hpp"

namespace mailsentry {

struct SessionConfig {
  std::string server_name;  // the MX host name: SNI and messages
  std::string helo_name = "localhost";
  std::string mail_from;  // "" sends MAIL FROM:<>
  bool try_starttls = true;
  bool require_starttls = false;
  bool log_transcript = false;
};

struct OpenResult {
  SessionFailure failure = SessionFailure::none;
  std::string detail;
  std::optional<SmtpReply> reply;  // the refusing reply, when there was one
  TcpConnect tcp = TcpConnect::not_attempted;
  bool greeted = false;  // a well-formed greeting came (whatever its code)
};

class SmtpSession : public std::enable_shared_from_this<SmtpSession> {
 public:
  using Clock = std::chrono::steady_clock;
  using OpenHandler = std::function<void(OpenResult)>;
  using TransactionHandler = std::function<void(TransactionResult)>;

  static std::shared_ptr<SmtpSession> create(asio::io_context& io,
                                             std::shared_ptr<asio::ssl::context> tls_context,
                                             SessionConfig config);
  // Only create() has the key: a session always lives in a shared_ptr.
  class CreateKey {
    friend class SmtpSession;
    explicit CreateKey() = default;
  };
  SmtpSession(CreateKey, asio::io_context& io, std::shared_ptr<asio::ssl::context> tls_context,
              SessionConfig config);
  ~SmtpSession();
  SmtpSession(const SmtpSession&) = delete;
  SmtpSession& operator=(const SmtpSession&) = delete;

  // Connects (after binding `source` when given) and runs greeting, EHLO
  // (HELO when refused) and STARTTLS as configured.
  void open(const asio::ip::tcp::endpoint& endpoint, const std::optional<asio::ip::address>& source,
            std::chrono::milliseconds step_timeout, OpenHandler done);
  // MAIL FROM and one RCPT TO per recipient, RSET first if a transaction ran
  // before. Pipelined when the server offers PIPELINING. With `continue_open`
  // and a transaction still open with the same SMTPUTF8 need (MAIL FROM
  // accepted), only the RCPTs are sent: they join that transaction.
  void transact(std::vector<std::string> recipients, bool smtputf8,
                std::chrono::milliseconds step_timeout, TransactionHandler done,
                bool continue_open = false);
  // Polite close: QUIT, wait for the reply (bounded), close. `closed` runs
  // once the socket is closed.
  void quit(std::chrono::milliseconds timeout, std::function<void()> closed);
  // Immediate close; a step in progress ends with SessionFailure::aborted.
  void close();
  // Immediate close for a shutdown: the handlers of a step in progress are
  // dropped, never called. The I/O loop may not run again, and a handler
  // left in the session would keep its owners, and the session, alive.
  void abandon();

  // Open, idle-able, and not told by the server that it is closing.
  bool usable() const { return ready_ && !closed_ && !broken_ && !busy_; }
  bool busy() const { return busy_; }
  const SmtpCapabilities& capabilities() const { return capabilities_; }
  int recipients_sent() const { return recipients_sent_; }
  int rejections() const { return rejections_; }
  // A MAIL FROM was accepted and no RSET or new MAIL FROM has followed it.
  bool transaction_open() const { return transaction_open_; }
  bool transaction_smtputf8() const { return open_smtputf8_; }
  Clock::time_point last_used() const { return last_used_; }
  std::string peer() const { return peer_; }
  std::vector<std::string> take_transcript();

 private:
  using ExchangeHandler =
      std::function<void(SessionFailure, std::string detail, std::vector<SmtpReply>)>;

  // Sends `commands` in one write (none: just read, e.g. the banner) and
  // reads `expected` replies, each within the step timeout.
  void exchange(std::vector<std::string> commands, std::size_t expected, std::string what,
                ExchangeHandler done);
  void read_replies();
  void fail_exchange(const std::error_code& error);  // a write or read failed
  void finish_exchange(SessionFailure failure, std::string detail);
  SessionFailure failure_for(const std::error_code& error, std::string& detail) const;

  // One step of open(): sends `command` ("" only reads, for the banner) and
  // hands its one reply to `next`; a failed exchange ends open().
  using OpenStep = void (SmtpSession::*)(const SmtpReply&);
  void open_step(std::string command, std::string what, OpenStep next);
  void after_connect(const std::error_code& error, bool attempted);
  void after_banner(const SmtpReply& banner);
  void send_ehlo();
  void after_ehlo(const SmtpReply& reply);
  void after_helo(const SmtpReply& reply);
  void after_starttls(const SmtpReply& reply);
  void after_handshake(const std::error_code& error);
  void finish_open(SessionFailure failure, std::string detail,
                   std::optional<SmtpReply> reply = std::nullopt);

  void run_sequential(std::vector<std::string> commands, std::size_t index,
                      std::vector<SmtpReply> replies, std::size_t recipients);
  void finish_transaction(SessionFailure failure, std::string detail,
                          const std::vector<SmtpReply>& replies, std::size_t recipients);

  void arm_timer();
  void disarm_timer();
  void close_socket();
  void note(std::string line);
  void note_reply(const SmtpReply& reply);

  asio::io_context& io_;
  std::shared_ptr<asio::ssl::context> tls_context_;
  SessionConfig config_;
  asio::ssl::stream<asio::ip::tcp::socket> stream_;
  asio::steady_timer timer_;
  std::uint64_t timer_generation_ = 0;
  std::chrono::milliseconds step_timeout_{1500};

  bool ready_ = false;  // greeting and EHLO done
  bool busy_ = false;   // a step is running
  bool closed_ = false;
  bool broken_ = false;     // failed or told to go away: never reuse
  bool timed_out_ = false;  // the timer closed the socket
  bool tls_active_ = false;
  bool after_tls_ = false;
  TcpConnect tcp_ = TcpConnect::not_attempted;
  bool greeted_ = false;
  SmtpCapabilities capabilities_;
  std::string peer_;

  SmtpReplyParser parser_;
  std::array<char, 4096> read_buffer_{};
  std::string write_buffer_;
  std::vector<SmtpReply> replies_;
  std::size_t expected_replies_ = 0;
  std::string exchange_what_;
  ExchangeHandler exchange_done_;

  OpenHandler open_done_;
  TransactionHandler transaction_done_;
  int transactions_ = 0;
  // The transaction in progress: what precedes its RCPTs in the replies.
  bool sent_rset_ = false;
  bool sent_mail_ = false;
  bool sending_smtputf8_ = false;
  // The open transaction (MAIL FROM accepted, no RSET since).
  bool transaction_open_ = false;
  bool open_smtputf8_ = false;
  std::optional<SmtpReply> open_mail_reply_;
  int recipients_sent_ = 0;
  int rejections_ = 0;
  Clock::time_point last_used_ = Clock::now();
  std::vector<std::string> transcript_;
};

}  // namespace mailsentry
