#include "net/registry_reply.hpp"

#include <utility>

namespace mailsentry {

Health health_of(RequestFailure failure) {
  switch (failure) {
    case RequestFailure::refused:
    case RequestFailure::unreachable:
      return Health::unreachable;
    case RequestFailure::broken:
      return Health::server_error;
    case RequestFailure::none:
    case RequestFailure::too_large:  // the server works; this domain's answer is just too big
    case RequestFailure::cancelled:  // only after the attempt was given up: never looked at
      break;
  }
  return Health::answered;
}

RegistryReply reply_from(HttpResponse response) {
  RegistryReply reply;
  reply.health = health_of(response.failure);
  reply.error = std::move(response.error);
  reply.status = response.status;
  reply.text = std::move(response.body);
  const bool overloaded = reply.status == 429 || reply.status >= 500;
  if (response.failure == RequestFailure::none && overloaded) reply.health = Health::server_error;
  return reply;
}

RegistryReply reply_from(WhoisResponse response) {
  RegistryReply reply;
  reply.health = health_of(response.failure);
  reply.error = std::move(response.error);
  reply.text = std::move(response.text);
  return reply;
}

RegistryReply skipped_reply(const std::string& open_reason) {
  RegistryReply reply;
  reply.health = Health::skipped;
  reply.error = "skipped, breaker open (" + open_reason + ")";
  return reply;
}

RegistryReply unreachable_reply(std::string error) {
  RegistryReply reply;
  reply.health = Health::unreachable;
  reply.error = std::move(error);
  return reply;
}

}  // namespace mailsentry
