// One registry request's outcome (RDAP over HTTPS or WHOIS), in the terms the
// domain age lookups and their per-server circuit breakers need.
#pragma once

#include <string>

#include "net/https_get.hpp"
#include "net/whois_client.hpp"

namespace mailsentry {

enum class Health {
  answered,      // the server answered, whatever it said
  server_error,  // HTTP 429/5xx or a broken answer: a run of them opens the breaker
  unreachable,   // no address, refused, TLS failure, timeout: opens the breaker at once
  skipped,       // not asked: the breaker is open
};

struct RegistryReply {
  Health health = Health::answered;
  std::string error;  // short, without the host; "" when there is an answer
  int status = 0;     // HTTP status (RDAP)
  std::string text;   // RDAP body or WHOIS answer
};

// What a failed request says about the server that was asked.
Health health_of(RequestFailure failure);

RegistryReply reply_from(HttpResponse response);
RegistryReply reply_from(WhoisResponse response);

// Not asked: the server's breaker is open, for `open_reason`.
RegistryReply skipped_reply(const std::string& open_reason);
// No address to ask, or the name did not resolve.
RegistryReply unreachable_reply(std::string error);

}  // namespace mailsentry
