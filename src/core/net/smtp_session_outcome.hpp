// How an SMTP session names what went wrong: the failure of a step, how the
// TCP connect ended, and the short form of a reply quoted in a detail.
#pragma once

#include <string>
#include <system_error>

#include "net/smtp_reply.hpp"

namespace mailsentry {

enum class SessionFailure {
  none,
  timeout,           // a step took longer than its timeout
  connection_error,  // refused, reset, closed by the server, bind failed
  malformed_reply,   // garbage or a reply over the parser's limits
  refused_greeting,  // the banner was not 220 (421, 554, ...)
  refused_hello,     // EHLO and HELO both refused
  tls_unavailable,   // STARTTLS required but not offered
  tls_failed,        // STARTTLS refused or the handshake failed
  protocol_error,    // RSET refused, or another reply the dialogue cannot go on after
  aborted,           // closed on our side (shutdown)
};

const char* describe(SessionFailure failure);

// How the TCP connect of open() ended, whatever followed it: the pool tells
// a blocked port 25 or a host refusing connections from a slow server.
enum class TcpConnect {
  not_attempted,  // the socket could not be opened or bound, or it was closed on our side
  connected,
  timed_out,
  refused,      // ECONNREFUSED: nothing listens there (or a firewall rejects)
  unreachable,  // rejected on the way, typically by a firewall (EHOSTUNREACH, EACCES, EPERM)
  failed,       // another error (no route to the network, reset...)
};

// A connect attempt that failed with `error`, which the session saw as `failure`.
TcpConnect classify_connect_error(SessionFailure failure, const std::error_code& error);

// "550 5.1.1 no such user": code, enhanced code and up to 200 bytes of text.
std::string brief_reply(const SmtpReply& reply);

}  // namespace mailsentry
