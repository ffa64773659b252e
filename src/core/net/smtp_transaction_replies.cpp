#include "net/smtp_transaction_replies.hpp"

namespace mailsentry {

TransactionResult read_transaction_replies(const TransactionSent& sent, SessionFailure failure,
                                           std::string detail,
                                           const std::vector<SmtpReply>& replies) {
  TransactionResult result;
  result.failure = failure;
  result.detail = std::move(detail);
  const std::size_t offset = sent.rset ? 1 : 0;
  const bool rset_refused = sent.rset && !replies.empty() && replies.front().code != 250;
  if (rset_refused && result.failure == SessionFailure::none) {
    result.failure = SessionFailure::protocol_error;
    result.detail = "RSET refused: " + brief_reply(replies.front());
  }
  std::size_t first_rcpt = replies.size();
  if (rset_refused) {
    // Nothing after a refused RSET answers anything.
  } else if (!sent.mail) {
    result.continued = true;
    result.mail_reply = sent.open_mail_reply;
    first_rcpt = 0;
  } else if (offset < replies.size()) {
    result.mail_reply = replies[offset];
    first_rcpt = offset + 1;
  }
  // After a failure too: the replies that did come answer their recipients.
  if (result.mail_reply && result.mail_reply->code / 100 == 2) {
    for (std::size_t i = first_rcpt;
         i < replies.size() && result.rcpt_replies.size() < sent.recipients; ++i) {
      result.rcpt_replies.push_back(replies[i]);
    }
  }
  return result;
}

bool opened_transaction(const TransactionResult& result) {
  return !result.continued && result.mail_reply && result.mail_reply->code / 100 == 2;
}

}  // namespace mailsentry
