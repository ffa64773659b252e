// The way to the registry servers (RDAP and WHOIS) that domain age lookups
// ask: per server, requests start at least min_interval apart, and a circuit
// breaker fails them fast for a cooldown after the server could not be
// reached (or answered HTTP 429/5xx three times in a row), then lets one
// probe through. Also resolves the server's name before each request.
#pragma once

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "net/checked_connect.hpp"
#include "net/circuit_breaker.hpp"
#include "net/registry_reply.hpp"
#include "net/smtp_prober.hpp"  // HostResolver

namespace mailsentry {

// One registry server as seen by the lookups (a snapshot).
struct RegistryStats {
  std::string name;            // host of the RDAP base URL, or the WHOIS server
  std::string protocol;        // "rdap" | "whois"
  std::uint64_t lookups = 0;   // requests started
  std::uint64_t failures = 0;  // of these: unreachable, HTTP 429/5xx, or a broken answer
  std::uint64_t skipped = 0;   // failed fast by the breaker (queued or abandoned in flight)
  bool breaker_open = false;   // lookups for this server fail fast now
  std::chrono::system_clock::time_point open_until{};  // end of the cooldown (when opened)
  std::uint64_t breaker_openings = 0;                  // never decreases, not even on set_options()
};

enum class RegistryProtocol { rdap, whois };  // in this order in stats()

struct RegistryGateOptions {
  std::chrono::milliseconds min_interval{500};        // between request starts, per server
  std::chrono::milliseconds breaker_cooldown{60000};  // zero turns the breaker off
};

// Everything but stats() on the io_context thread.
class RegistryGate : public std::enable_shared_from_this<RegistryGate> {
 public:
  using Clock = std::chrono::steady_clock;
  using ReplyDone = std::function<void(RegistryReply)>;
  // Starts one request on the server's resolved addresses.
  using Launch = std::function<std::shared_ptr<CancellableOperation>(std::vector<asio::ip::address>,
                                                                     ReplyDone)>;
  struct Registry;

  // One request to one registry server, from admission to its one reply.
  struct Attempt {
    enum class Phase { queued, asking, done };
    Registry* registry = nullptr;
    Launch launch;
    ReplyDone done;
    Phase phase = Phase::queued;
    Clock::time_point asked_at{};                   // when it went on the wire
    std::weak_ptr<CancellableOperation> operation;  // kept alive by its own handlers
  };

  RegistryGate(asio::io_context& io, HostResolver resolve_host, RegistryGateOptions options);
  ~RegistryGate();
  RegistryGate(const RegistryGate&) = delete;
  RegistryGate& operator=(const RegistryGate&) = delete;

  // Runs `launch` at `host` once its breaker and rate limit allow; `done`
  // gets exactly one reply, from a handler: a skip (at once) while the
  // breaker is open, else the server's answer or failure.
  std::shared_ptr<Attempt> ask(RegistryProtocol protocol, const std::string& host, Launch launch,
                               ReplyDone done);

  // New settings may well have fixed what made a server fail: every breaker closes.
  void set_options(RegistryGateOptions options);
  // Drops every request queued or under way without calling back.
  void shutdown();
  // Per server, sorted by protocol then name. Any thread.
  std::vector<RegistryStats> stats() const;

  // `attempt` is on the wire, went there `grace` or less before `started`,
  // and no other request at its server has hung for longer than `grace`.
  static bool worth_waiting_for(const Attempt& attempt, Clock::time_point started,
                                std::chrono::milliseconds grace);

 private:
  Registry& registry_for(RegistryProtocol protocol, const std::string& host);
  bool breaker_enabled() const;
  void enqueue(Registry& registry, std::shared_ptr<Attempt> attempt);
  void arm(Registry& registry);
  void start(std::shared_ptr<Attempt> attempt);
  void on_reply(const std::shared_ptr<Attempt>& attempt, RegistryReply reply);
  bool record(Registry& registry, const std::shared_ptr<Attempt>& attempt,
              const RegistryReply& reply);
  void abandon_pending(Registry& registry);
  static std::vector<std::shared_ptr<Attempt>> take_pending(Registry& registry);
  static void finish(Attempt& attempt, RegistryReply reply);
  using AddressesDone = std::function<void(std::vector<asio::ip::address>, std::string error)>;
  void resolve(const std::string& host, AddressesDone done);

  asio::io_context& io_;
  HostResolver resolve_host_;
  RegistryGateOptions options_;
  std::map<std::pair<RegistryProtocol, std::string>, std::unique_ptr<Registry>> registries_;
  mutable std::mutex stats_mutex_;  // registries_ (the map) and their breakers and counters
};

}  // namespace mailsentry
