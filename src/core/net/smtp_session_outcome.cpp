#include "net/smtp_session_outcome.hpp"

#include <asio/error.hpp>
#include <cstddef>
#include <iterator>

namespace mailsentry {

const char* describe(SessionFailure failure) {
  // In the order of the enumerators.
  static constexpr const char* kDescriptions[] = {
      "ok",
      "timeout",
      "connection error",
      "malformed reply",
      "greeting refused",
      "EHLO/HELO refused",
      "STARTTLS not offered",
      "STARTTLS failed",
      "protocol error",
      "aborted",
  };
  static_assert(std::size(kDescriptions) == static_cast<std::size_t>(SessionFailure::aborted) + 1);
  const auto index = static_cast<std::size_t>(failure);
  return index < std::size(kDescriptions) ? kDescriptions[index] : "unknown";
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

std::string brief_reply(const SmtpReply& reply) {
  std::string text = std::to_string(reply.code);
  if (!reply.enhanced.empty()) text += " " + reply.enhanced;
  const std::string body = clean_reply_text(reply.text(), 200);
  if (!body.empty()) text += " " + body;
  return text;
}

}  // namespace mailsentry
