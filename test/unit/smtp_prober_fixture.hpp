// The SmtpProber against scripted SMTP servers on loopback addresses: a
// fixture that starts servers, resolves MX names from a map and runs the
// io_context until probes finish. Assertions read the servers' transcripts.
#pragma once

#include <gtest/gtest.h>

#include <asio/io_context.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "net/smtp_prober.hpp"
#include "scripted_smtp_fixture.hpp"

namespace mailsentry::prober_test {

using namespace std::chrono_literals;
using scripted_smtp::ScriptedSmtpServer;
using scripted_smtp::ServerEvent;

inline bool has_warning(const ProbeResult& result, const std::string& needle) {
  for (const std::string& warning : result.warnings) {
    if (warning.find(needle) != std::string::npos) return true;
  }
  return false;
}

inline std::string warnings_of(const ProbeResult& result) {
  std::string all;
  for (const std::string& warning : result.warnings) all += "\n  " + warning;
  return all;
}

inline bool transcript_has(const ProbeResult& result, const std::string& line) {
  for (const std::string& entry : result.transcript) {
    if (entry == line) return true;
  }
  return false;
}

class SmtpProberFixture : public ::testing::Test {
 protected:
  SmtpProberFixture() {
    options.address_policy.allow_private_networks = true;
    options.log_transcripts = true;
    options.helo_name = "probe.mailsentry.test";
    options.mail_from = "verify@mailsentry.test";
  }

  void TearDown() override {
    if (prober) {
      prober->shutdown();
      run_for(2s);  // lets idle sessions QUIT
      prober.reset();
    }
    run_for(100ms);
    for (const auto& server : servers) {
      for (const ServerEvent& line : server->client_lines()) {
        EXPECT_NE(line.text.substr(0, 4), "DATA") << "DATA sent to " << server->host();
      }
      server->stop();
    }
  }

  // First server of a test: any free port, which becomes options.port.
  // Later ones listen on the same port at other addresses.
  ScriptedSmtpServer* start_server(const std::string& address, const std::string& scenario) {
    auto server = std::make_unique<ScriptedSmtpServer>();
    const std::string error =
        server->start(address, scenario, options.port == 25 ? 0 : options.port);
    if (!error.empty()) {
      ADD_FAILURE() << "scripted server on " << address << " failed to start: " << error;
      return nullptr;
    }
    options.port = server->port();
    servers.push_back(std::move(server));
    return servers.back().get();
  }

  void make_prober() {
    prober = std::make_unique<SmtpProber>(
        io,
        [this](const std::string& host, std::function<void(AddressAnswer)> done) {
          AddressAnswer answer;
          const auto found = dns.find(host);
          if (dns_failing.count(host) != 0) {
            answer.status = DnsStatus::inconclusive;
            answer.error = "A " + host + ": SERVFAIL";
          } else if (found == dns.end()) {
            answer.status = DnsStatus::no_such_domain;
            answer.error = "NXDOMAIN";
          } else {
            answer.status = DnsStatus::ok;
            for (const std::string& address : found->second)
              answer.addresses.push_back(asio::ip::make_address(address));
          }
          done(answer);  // synchronously, like a cache hit
        },
        options);
  }

  ProbeRequest request(const std::string& recipient, std::vector<std::string> mx_hosts,
                       std::vector<std::chrono::milliseconds> timeouts = {1500ms, 2500ms, 3500ms}) {
    ProbeRequest request;
    request.recipient = recipient;
    request.domain = recipient.substr(recipient.rfind('@') + 1);
    int preference = 10;
    for (std::string& host : mx_hosts) request.mx.push_back(MxHost{preference++, std::move(host)});
    request.settings.timeouts = std::move(timeouts);
    return request;
  }

  void run_for(std::chrono::milliseconds duration) {
    io.restart();
    io.run_for(duration);
  }

  std::vector<ProbeResult> probe_all(std::vector<ProbeRequest> requests,
                                     std::chrono::seconds limit = 20s) {
    std::vector<ProbeResult> results(requests.size());
    std::vector<int> calls(requests.size(), 0);
    std::size_t finished = 0;
    for (std::size_t i = 0; i < requests.size(); ++i) {
      prober->probe(std::move(requests[i]), [&, i](ProbeResult result) {
        results[i] = std::move(result);
        ++calls[i];
        ++finished;
      });
    }
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (finished < results.size() && std::chrono::steady_clock::now() < deadline) {
      if (io.stopped()) io.restart();
      io.run_one_for(50ms);
    }
    EXPECT_EQ(finished, results.size()) << "probes did not finish within " << limit.count() << " s";
    for (int count : calls) EXPECT_LE(count, 1) << "a callback ran twice";
    return results;
  }

  ProbeResult probe(ProbeRequest request) {
    std::vector<ProbeRequest> requests;
    requests.push_back(std::move(request));
    return probe_all(std::move(requests)).front();
  }

  asio::io_context io;
  SmtpOptions options;
  std::map<std::string, std::vector<std::string>> dns;  // other names: NXDOMAIN
  std::set<std::string> dns_failing;                    // lookups that fail (SERVFAIL)
  std::vector<std::unique_ptr<ScriptedSmtpServer>> servers;
  std::unique_ptr<SmtpProber> prober;
};

}  // namespace mailsentry::prober_test
