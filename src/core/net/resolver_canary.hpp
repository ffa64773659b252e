// Whether the DNS resolver sees the Internet. A resolver cut off from it (a
// split-horizon or captive resolver, a broken forwarder) answers NXDOMAIN or
// nothing for every name, which would make every domain look dead. So before
// a negative answer may prove a domain dead, the canary looks up the MX of
// well-known domains that always have one: when none comes back, the
// resolver is taken as blind. The result is kept for a recheck interval, and
// checked again sooner when dead findings pile up (a resolver that went blind
// since would be producing them).
//
// Threading: the io_context's thread only, except state(), which any thread
// may call. The DnsResolver must outlive the canary.
#pragma once

#include <asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "net/dns_resolver.hpp"

namespace mailsentry {

// Popular mail domains for the product's default canary list.
std::vector<std::string> default_canary_domains();

struct ResolverCanaryOptions {
  // Looked up all at once; the first with mail hosts ends the check. Empty
  // turns the check off (when_known() answers true). Empty by default, so
  // that nothing asks real DNS unless configured: the worker passes its setting.
  std::vector<std::string> domains;
  std::chrono::milliseconds recheck_interval{std::chrono::seconds(300)};
  // Dead findings since the last check that make the next when_known()
  // check again before the interval is over; 0 or less: never sooner.
  int dead_findings_before_recheck = 20;
  // ... but not sooner than this after the last check: a bulk run over many
  // dead domains would otherwise recheck (and wait) every few addresses.
  std::chrono::milliseconds pileup_recheck_gap{std::chrono::seconds(30)};
};

class ResolverCanary {
 public:
  struct State {
    bool known = false;                                  // a check has ended
    bool sees_internet = false;                          // what the last check found
    std::uint64_t episodes = 0;                          // times the "cannot see" state was entered
    std::uint64_t checks = 0;                            // checks started
    std::chrono::system_clock::time_point last_check{};  // when the last one ended
  };

  ResolverCanary(asio::io_context& io, DnsResolver& dns, ResolverCanaryOptions options);
  // Callbacks still waiting are dropped, never called: their owners are
  // being torn down too.
  ~ResolverCanary();
  ResolverCanary(const ResolverCanary&) = delete;
  ResolverCanary& operator=(const ResolverCanary&) = delete;

  // Other domains make the next when_known() check again.
  void set_options(ResolverCanaryOptions options);
  // The resolver changed (other servers): the next when_known() checks again.
  void recheck();

  // `done` runs later on the io_context thread (never inside this call) with
  // the last result while it is fresh; otherwise once the check it starts,
  // or the one in flight, has ended.
  void when_known(std::function<void(bool sees_internet)> done);
  // A domain was found dead on the resolver's word.
  void note_dead_finding();

  State state() const;

 private:
  struct Core;
  std::shared_ptr<Core> core_;
};

}  // namespace mailsentry
