// Catch-all probing per domain: a random address that no mailbox has is
// sent RCPT TO; "accepted" means the domain takes anyone, and an "exists"
// answer for a real address there says nothing. One probe per domain at a
// time, the same address each time (greylisting servers remember it); jobs
// that answered "exists" park until the probe answers; answers are
// remembered for a TTL. Runs on the io_context thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "net/catch_all_memory.hpp"
#include "net/probe_job.hpp"
#include "net/smtp_reply.hpp"

namespace mailsentry {

// What a catch-all probe said.
struct ProbeAnswer {
  bool replied = false;           // false: the probe got no reply (failure)
  std::optional<bool> catch_all;  // set when the reply was conclusive
};

class CatchAllProbes {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::size_t kLocalPartLength = 24;

  explicit CatchAllProbes(std::chrono::milliseconds ttl,
                          std::uint64_t seed = std::random_device{}())
      : ttl_(ttl), random_(seed) {}

  void set_ttl(std::chrono::milliseconds ttl) { ttl_ = ttl; }
  // An answer learnt before (persisted across a restart).
  void remember(const std::string& domain, bool catch_all, std::chrono::milliseconds ttl);

  // A new job of its domain: the remembered status, else the probe is wanted.
  void join(ProbeJob& job);
  // A finished job: its domain's state goes once nothing needs it.
  void leave(const ProbeJob& job);
  // The remembered status, unless the job wants a fresh probe.
  void refresh(ProbeJob& job);

  bool probe_in_flight(const std::string& domain) const;
  // Marks the domain's probe as sent and gives its address.
  const std::string& start_probe(const std::string& domain);
  // The probe's reply (nullptr: none came); conclusive answers are remembered.
  ProbeAnswer record(const std::string& domain, const SmtpReply* reply);
  // The job answered "exists" and waits for the probe in flight.
  void park(const JobPtr& job);
  std::vector<JobPtr> take_parked(const std::string& domain);
  void forget_if_idle(const std::string& domain);
  void clear() { domains_.clear(); }
  std::size_t domains() const { return domains_.size(); }

  // What the probe's answer means for a job waiting for it.
  static void apply(ProbeJob& job, const ProbeAnswer& answer);

 private:
  struct DomainState {
    int jobs = 0;  // unfinished jobs of the domain: the state lives as long as they do
    bool probe_in_flight = false;
    std::string probe_address;   // the same one each time (greylisting servers)
    std::vector<JobPtr> parked;  // answered "exists", waiting for the probe's answer
  };

  std::string random_local_part();

  std::chrono::milliseconds ttl_;
  CatchAllMemory memory_;
  std::unordered_map<std::string, DomainState> domains_;
  std::mt19937_64 random_;
};

}  // namespace mailsentry
