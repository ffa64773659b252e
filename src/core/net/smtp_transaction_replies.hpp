// Reading the replies of one MAIL/RCPT transaction, laid out as
// [RSET] [MAIL] RCPT...: which reply answers the MAIL FROM and which answer
// the recipients, after a refused RSET or MAIL, a failure part-way, or when
// the recipients joined a transaction already open.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "net/smtp_reply.hpp"
#include "net/smtp_session_outcome.hpp"

namespace mailsentry {

struct TransactionResult {
  SessionFailure failure = SessionFailure::none;
  std::string detail;
  // The MAIL FROM reply; when `continued`, the one that opened the transaction.
  std::optional<SmtpReply> mail_reply;
  bool continued = false;  // the recipients joined a transaction already open
  // In the order of the recipients; on failure, those answered before it.
  std::vector<SmtpReply> rcpt_replies;
};

struct TransactionSent {
  bool rset = false;  // RSET went first
  bool mail = true;   // MAIL FROM went (false: joined the open transaction)
  std::size_t recipients = 0;
  std::optional<SmtpReply> open_mail_reply;  // the open transaction's, when joining
};

// The result of a transaction whose exchange ended with `failure` and
// `detail` after `replies` came. A refused RSET is a protocol error.
TransactionResult read_transaction_replies(const TransactionSent& sent, SessionFailure failure,
                                           std::string detail,
                                           const std::vector<SmtpReply>& replies);

// A MAIL FROM accepted by this exchange: the transaction is open now.
bool opened_transaction(const TransactionResult& result);

}  // namespace mailsentry
