// Small builders for the tests of the prober's parts taken one by one
// (jobs, catch-all probes, batches, settlement, queues): replies and jobs
// made by hand, with no server and no io_context.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "net/probe_job.hpp"
#include "net/smtp_reply.hpp"

namespace mailsentry::probe_parts {

using namespace std::chrono_literals;

inline SmtpReply reply(int code, std::string enhanced = "", std::string text = "ok") {
  SmtpReply made;
  made.code = code;
  made.enhanced = std::move(enhanced);
  made.lines = {std::move(text)};
  return made;
}

// A prepared job for `recipient`, its current host the first of `hosts`.
inline JobPtr job(const std::string& recipient, std::vector<std::string> hosts = {"mx.a.test"}) {
  auto made = std::make_shared<ProbeJob>();
  made->request.recipient = recipient;
  int preference = 10;
  for (std::string& host : hosts) made->request.mx.push_back(MxHost{preference++, std::move(host)});
  made->prepare();
  return made;
}

}  // namespace mailsentry::probe_parts
