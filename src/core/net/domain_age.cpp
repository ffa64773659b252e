// Domain age lookups: RDAP first (server from IANA's bootstrap file), WHOIS
// for TLDs without RDAP and when RDAP fails; rate limited and guarded by a
// circuit breaker per registry server, cached per domain.
#include "net/domain_age.hpp"

#include <algorithm>
#include <asio/post.hpp>
#include <asio/ssl/context.hpp>
#include <asio/steady_timer.hpp>
#include <deque>
#include <map>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include "net/circuit_breaker.hpp"
#include "net/https_get.hpp"
#include "net/rdap_bootstrap.hpp"
#include "net/whois_client.hpp"

namespace mailsentry {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t kCacheCapacity = 100000;
// HTTP 429/5xx in a row that open a breaker (a connection failure opens it at
// once): one overloaded answer is normal, a run of them means back off.
constexpr int kServerErrorsToOpen = 3;

// Lower case, no trailing dot; "" when it cannot be a registrable domain.
std::string normalize_domain(std::string_view domain) {
  std::string name(domain);
  while (!name.empty() && name.back() == '.') name.pop_back();
  for (char& c : name) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    bool allowed =
        (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
    if (!allowed) return {};  // U-labels must arrive as punycode (A-labels)
  }
  if (name.size() > 253 || name.find('.') == std::string::npos || name.front() == '.' ||
      name.find("..") != std::string::npos) {
    return {};
  }
  return name;
}

std::string top_level_label(const std::string& domain) {
  return domain.substr(domain.rfind('.') + 1);
}

bool is_ip_literal(const std::string& host) {
  std::error_code error;
  asio::ip::make_address(host, error);
  return !error;
}

DomainAgeResult failure(std::string warning) {
  DomainAgeResult result;
  result.warning = std::move(warning);
  return result;
}

DomainAgeResult dated(int created_days, std::string source) {
  DomainAgeResult result;
  result.created_days = created_days;
  result.source = std::move(source);
  return result;
}

enum class Protocol { rdap, whois };  // in this order in registry_stats()

// One registry request's outcome, in the terms the breaker needs.
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

RegistryReply reply_from(HttpResponse response) {
  RegistryReply reply;
  reply.error = std::move(response.error);
  reply.status = response.status;
  reply.text = std::move(response.body);
  switch (response.failure) {
    case HttpFailure::none:
      if (reply.status == 429 || reply.status >= 500) reply.health = Health::server_error;
      break;
    case HttpFailure::refused:
    case HttpFailure::unreachable:
      reply.health = Health::unreachable;
      break;
    case HttpFailure::broken:
      reply.health = Health::server_error;
      break;
    case HttpFailure::too_large:  // the server works; this domain's answer is just too big
    case HttpFailure::cancelled:  // only after the attempt was given up: never looked at
      break;
  }
  return reply;
}

RegistryReply reply_from(WhoisResponse response) {
  RegistryReply reply;
  reply.error = std::move(response.error);
  reply.text = std::move(response.text);
  switch (response.failure) {
    case WhoisFailure::refused:
    case WhoisFailure::unreachable:
      reply.health = Health::unreachable;
      break;
    case WhoisFailure::broken:
      reply.health = Health::server_error;
      break;
    case WhoisFailure::none:
    case WhoisFailure::too_large:
    case WhoisFailure::cancelled:
      break;
  }
  return reply;
}

}  // namespace

struct DomainAgeLookup::Impl : std::enable_shared_from_this<DomainAgeLookup::Impl> {
  using Done = std::function<void(DomainAgeResult)>;
  using AddressesDone = std::function<void(std::vector<asio::ip::address>, std::string error)>;
  using ReplyDone = std::function<void(RegistryReply)>;
  // Starts one request on the registry server's resolved addresses.
  using Launch = std::function<std::shared_ptr<CancellableOperation>(std::vector<asio::ip::address>,
                                                                     ReplyDone)>;

  struct CacheEntry {
    DomainAgeResult result;
    Clock::time_point expires;
  };

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

  // A registry server. The rate limit is io-thread state; the breaker and
  // counters are written on the io thread under stats_mutex and read by
  // registry_stats() from any thread.
  struct Registry {
    Registry(asio::io_context& io, Protocol protocol_used, std::string host_name)
        : protocol(protocol_used), host(std::move(host_name)), timer(io) {}
    const Protocol protocol;
    const std::string host;
    // Requests start at least min_interval_per_registry apart.
    Clock::time_point next_start{};
    std::deque<std::shared_ptr<Attempt>> waiting;
    asio::steady_timer timer;
    bool timer_armed = false;
    std::vector<std::weak_ptr<Attempt>> asking;  // resolving or on the wire
    // Breaker: open after a failure, then half-open (one probe) after the cooldown.
    CircuitBreaker breaker;
    bool tripped = false;          // opened, and no answer since
    std::weak_ptr<Attempt> probe;  // the request let through while half-open
    std::string open_reason;
    std::uint64_t lookups = 0, failures = 0, skipped = 0, openings = 0;
  };

  // A domain being fetched: what failed so far and the request under way.
  struct Fetch {
    std::string rdap_failure;  // "RDAP host: why", once RDAP failed
    bool breaker_skipped = false;
    std::weak_ptr<Attempt> attempt;
  };

  Impl(asio::io_context& io_context, HostResolver resolver, DomainAgeOptions initial)
      : io(io_context), resolve_host(std::move(resolver)) {
    apply_options(std::move(initial));
  }

  void apply_options(DomainAgeOptions new_options) {
    options = std::move(new_options);
    tls_context = make_tls_client_context();
    bootstrap.reset();
    bootstrap_error.clear();
    if (options.bootstrap_file.empty()) {
      bootstrap_error = "no RDAP bootstrap file configured";
    } else {
      bootstrap = RdapBootstrap::load_file(options.bootstrap_file, &bootstrap_error);
    }
    for (auto entry = cache.begin(); entry != cache.end();) {
      entry = entry->second.result.created_days ? std::next(entry) : cache.erase(entry);
    }
    referral_by_tld.clear();
    // New settings may well have fixed what made a server fail.
    std::lock_guard<std::mutex> lock(stats_mutex);
    for (auto& [key, registry] : registries) {
      registry->breaker = CircuitBreaker();
      registry->tripped = false;
      registry->probe.reset();
      registry->open_reason.clear();
    }
  }

  bool breaker_enabled() const {
    return options.registry_breaker_cooldown > std::chrono::milliseconds::zero();
  }

  // ---- Requests and their completion -------------------------------------

  void lookup(std::string registrable_domain, Done done) {
    if (shut_down) {  // only a callback running inside the destructor gets here
      invoke(done, failure("domain age lookup shut down"));
      return;
    }
    std::string domain = normalize_domain(registrable_domain);
    if (domain.empty()) {
      // Not cached, and delivered from the loop like every other answer.
      std::string key = "\x01invalid:" + std::to_string(next_invalid_id++);
      waiting[key].push_back(std::move(done));
      post_completion(key, failure("\"" + registrable_domain + "\" is not a registrable domain"));
      return;
    }
    auto pending = waiting.find(domain);
    if (pending != waiting.end()) {  // a fetch for it is under way: share it
      pending->second.push_back(std::move(done));
      return;
    }
    waiting[domain].push_back(std::move(done));
    auto cached = cache.find(domain);
    if (cached != cache.end() && cached->second.expires > Clock::now()) {
      DomainAgeResult result = cached->second.result;
      if (result.created_days && result.source != "restored") result.source = "cached";
      post_completion(domain, std::move(result));
      return;
    }
    fetch(domain);
  }

  LookupState state(std::string_view registrable_domain) const {
    const std::string domain = normalize_domain(registrable_domain);
    if (domain.empty()) return LookupState::none;
    auto fetch = fetches.find(domain);
    if (fetch != fetches.end()) {
      std::shared_ptr<Attempt> attempt = fetch->second.attempt.lock();
      bool asking = attempt && attempt->phase == Attempt::Phase::asking;
      return asking ? LookupState::in_flight : LookupState::queued;
    }
    auto cached = cache.find(domain);
    if (cached != cache.end() && cached->second.expires > Clock::now()) return LookupState::cached;
    return LookupState::none;
  }

  bool worth_waiting_for(std::string_view registrable_domain, Clock::time_point started,
                         std::chrono::milliseconds grace) const {
    auto fetch = fetches.find(normalize_domain(registrable_domain));
    if (fetch == fetches.end()) return false;
    std::shared_ptr<Attempt> own = fetch->second.attempt.lock();
    if (!own || own->phase != Attempt::Phase::asking || own->registry == nullptr) return false;
    if (own->asked_at + grace < started) return false;  // asked long before this verification
    const Clock::time_point now = Clock::now();
    for (const std::weak_ptr<Attempt>& weak : own->registry->asking) {
      std::shared_ptr<Attempt> other = weak.lock();
      if (other && other != own && other->phase == Attempt::Phase::asking &&
          now - other->asked_at > grace)
        return false;
    }
    return true;
  }

  void post_completion(const std::string& key, DomainAgeResult result) {
    std::weak_ptr<Impl> weak = shared_from_this();
    asio::post(io, [weak, key, result = std::move(result)]() mutable {
      if (auto self = weak.lock()) self->deliver(key, std::move(result));
    });
  }

  void complete(const std::string& domain, DomainAgeResult result) {
    auto fetch = fetches.find(domain);
    const bool breaker_skipped = fetch != fetches.end() && fetch->second.breaker_skipped;
    if (fetch != fetches.end()) fetches.erase(fetch);
    Clock::duration ttl = result.created_days ? Clock::duration(options.cache_ttl)
                                              : Clock::duration(options.failure_cache_ttl);
    // A registry skipped by its breaker was not really asked: ask again once
    // the breaker lets requests through.
    if (!result.created_days && breaker_skipped) {
      ttl = std::min<Clock::duration>(ttl, options.registry_breaker_cooldown);
    }
    if (ttl > Clock::duration::zero()) {
      if (cache.size() >= kCacheCapacity) evict_from_cache();
      cache[domain] = CacheEntry{result, Clock::now() + ttl};
    }
    post_completion(domain, std::move(result));  // callbacks always run from a handler
  }

  void remember(std::string_view registrable_domain, int created_days,
                std::chrono::milliseconds ttl) {
    const std::string domain = normalize_domain(registrable_domain);
    const Clock::duration kept = std::min<Clock::duration>(ttl, options.cache_ttl);
    if (domain.empty() || kept <= Clock::duration::zero()) return;
    if (cache.size() >= kCacheCapacity && cache.count(domain) == 0) evict_from_cache();
    cache[domain] = CacheEntry{dated(created_days, "restored"), Clock::now() + kept};
  }

  void deliver(const std::string& key, const DomainAgeResult& result) {
    auto pending = waiting.find(key);
    if (pending == waiting.end()) return;
    std::vector<Done> callbacks = std::move(pending->second);
    waiting.erase(pending);  // before calling out: callbacks may start new lookups
    for (Done& callback : callbacks) invoke(callback, result);
  }

  static void invoke(Done& callback, const DomainAgeResult& result) {
    try {
      callback(result);
    } catch (...) {
      // Nothing may unwind into the event loop of the background worker.
    }
  }

  void evict_from_cache() {
    Clock::time_point now = Clock::now();
    for (auto entry = cache.begin(); entry != cache.end();) {
      entry = entry->second.expires <= now ? cache.erase(entry) : std::next(entry);
    }
    while (cache.size() >= kCacheCapacity) cache.erase(cache.begin());
  }

  void shutdown() {
    shut_down = true;
    fetches.clear();
    auto pending = std::move(waiting);
    waiting.clear();
    for (auto& [key, callbacks] : pending) {
      for (Done& callback : callbacks) invoke(callback, failure("domain age lookup shut down"));
    }
    for (auto& [key, registry] : registries) {  // timers go with the Impl; handlers hold weak refs
      for (const std::shared_ptr<Attempt>& attempt : take_pending(*registry)) {
        attempt->phase = Attempt::Phase::done;  // so the cancelled request's reply is ignored
        attempt->done = nullptr;
        if (auto operation = attempt->operation.lock()) operation->cancel();
      }
    }
  }

  // ---- Routing: RDAP, then WHOIS (configured server or IANA's referral) --

  void fetch(const std::string& domain) {
    fetches[domain] = Fetch{};
    std::vector<std::string> base_urls;
    if (bootstrap) base_urls = bootstrap->base_urls_for(domain);
    if (base_urls.empty()) {
      return ask_whois(
          domain, bootstrap ? "no RDAP service for ." + top_level_label(domain) : bootstrap_error);
    }
    std::string url_text = RdapBootstrap::domain_query_url(base_urls.front(), domain);
    std::optional<HttpUrl> url = parse_http_url(url_text);
    if (!url) return rdap_failed(domain, "RDAP: unusable URL " + url_text);
    ask_rdap(domain, std::move(*url));
  }

  void ask_rdap(const std::string& domain, HttpUrl url) {
    std::weak_ptr<Impl> weak = shared_from_this();
    const std::string host = url.host;
    Launch launch = [weak, url = std::move(url)](std::vector<asio::ip::address> addresses,
                                                 ReplyDone done) {
      std::shared_ptr<CancellableOperation> operation;
      if (auto self = weak.lock()) {
        operation = http_get(self->io, self->tls_context, url, std::move(addresses),
                             self->http_options(), [done = std::move(done)](HttpResponse response) {
                               done(reply_from(std::move(response)));
                             });
      }
      return operation;
    };
    track(domain, ask(registry_for(Protocol::rdap, host), std::move(launch),
                      [weak, domain, host](RegistryReply reply) {
                        if (auto self = weak.lock())
                          self->on_rdap_reply(domain, host, std::move(reply));
                      }));
  }

  void on_rdap_reply(const std::string& domain, const std::string& host, RegistryReply reply) {
    if (!note_reply(domain, reply)) return;
    if (reply.error.empty() && reply.status == 404) {  // an answer: WHOIS would say the same
      return complete(domain, failure("RDAP: the registry does not know " + domain));
    }
    if (reply.error.empty() && reply.status == 200) {
      if (std::optional<int> days = rdap_registration_days(reply.text)) {
        return complete(domain, dated(*days, "rdap"));
      }
      reply.error = "no registration date";
    } else if (reply.error.empty()) {
      reply.error = "HTTP " + std::to_string(reply.status);
    }
    rdap_failed(domain, "RDAP " + host + ": " + reply.error);
  }

  void rdap_failed(const std::string& domain, std::string why) {
    auto fetch = fetches.find(domain);
    if (fetch == fetches.end()) return;
    fetch->second.rdap_failure = std::move(why);
    ask_whois(domain, {});
  }

  // `why_no_rdap` is set when RDAP was not asked at all (no service for the TLD).
  void ask_whois(const std::string& domain, const std::string& why_no_rdap) {
    if (!options.whois_server.empty()) {
      std::optional<WhoisServer> server = parse_whois_server(options.whois_server);
      if (!server) return give_up(domain, "bad WHOIS server " + options.whois_server);
      return ask_whois_date(domain, *server);
    }
    if (options.whois_referral_server.empty()) {
      return give_up(domain, why_no_rdap.empty() ? std::string()
                                                 : why_no_rdap + " and WHOIS is not configured");
    }
    std::optional<WhoisServer> referral_server = parse_whois_server(options.whois_referral_server);
    if (!referral_server) {
      return give_up(domain, "bad WHOIS referral server " + options.whois_referral_server);
    }
    const std::string tld = top_level_label(domain);
    auto known = referral_by_tld.find(tld);
    if (known != referral_by_tld.end()) {
      return ask_whois_date(domain, WhoisServer{known->second, referral_server->port});
    }
    std::weak_ptr<Impl> weak = shared_from_this();
    track(domain, ask(registry_for(Protocol::whois, referral_server->host),
                      whois_launch(*referral_server, tld),
                      [weak, domain, tld, server = *referral_server](RegistryReply reply) {
                        if (auto self = weak.lock()) self->on_referral(domain, tld, server, reply);
                      }));
  }

  void on_referral(const std::string& domain, const std::string& tld, const WhoisServer& server,
                   const RegistryReply& reply) {
    if (!note_reply(domain, reply)) return;
    if (!reply.error.empty()) return give_up(domain, "WHOIS " + server.host + ": " + reply.error);
    std::string referred = whois_referral(reply.text);
    if (referred.empty()) {
      return give_up(domain, "WHOIS " + server.host + ": no WHOIS server known for ." + tld);
    }
    referral_by_tld[tld] = referred;
    ask_whois_date(domain, WhoisServer{referred, server.port});
  }

  void ask_whois_date(const std::string& domain, const WhoisServer& server) {
    std::weak_ptr<Impl> weak = shared_from_this();
    track(domain, ask(registry_for(Protocol::whois, server.host), whois_launch(server, domain),
                      [weak, domain, host = server.host](RegistryReply reply) {
                        if (auto self = weak.lock()) self->on_whois_reply(domain, host, reply);
                      }));
  }

  void on_whois_reply(const std::string& domain, const std::string& host,
                      const RegistryReply& reply) {
    if (!note_reply(domain, reply)) return;
    if (!reply.error.empty()) return give_up(domain, "WHOIS " + host + ": " + reply.error);
    if (std::optional<int> days = whois_creation_days(reply.text)) {
      DomainAgeResult result = dated(*days, "whois");
      // Say which source answered, and why RDAP did not.
      auto fetch = fetches.find(domain);
      if (fetch != fetches.end() && !fetch->second.rdap_failure.empty())
        result.warning = "from WHOIS " + host + " (" + fetch->second.rdap_failure + ")";
      return complete(domain, std::move(result));
    }
    give_up(domain, "WHOIS " + host + ": no creation date");
  }

  // No date: the warning names what RDAP and then WHOIS said.
  void give_up(const std::string& domain, const std::string& whois_failure) {
    auto fetch = fetches.find(domain);
    if (fetch == fetches.end()) return;
    std::string warning = fetch->second.rdap_failure;
    if (!warning.empty() && !whois_failure.empty()) warning += "; ";
    complete(domain, failure(warning + whois_failure));
  }

  // False when the fetch is gone (shut down); remembers breaker skips.
  bool note_reply(const std::string& domain, const RegistryReply& reply) {
    auto fetch = fetches.find(domain);
    if (fetch == fetches.end()) return false;
    if (reply.health == Health::skipped) fetch->second.breaker_skipped = true;
    return true;
  }

  void track(const std::string& domain, const std::shared_ptr<Attempt>& attempt) {
    auto fetch = fetches.find(domain);
    if (fetch != fetches.end()) fetch->second.attempt = attempt;
  }

  HttpGetOptions http_options() const {
    HttpGetOptions http;
    http.timeout = options.timeout;
    http.max_body_bytes = options.max_response_bytes;
    http.verify_tls = options.verify_tls;
    http.address_policy = options.address_policy;
    return http;
  }

  Launch whois_launch(WhoisServer server, std::string query) {
    std::weak_ptr<Impl> weak = shared_from_this();
    return [weak, server = std::move(server), query = std::move(query)](
               std::vector<asio::ip::address> addresses, ReplyDone done) {
      std::shared_ptr<CancellableOperation> operation;
      if (auto self = weak.lock()) {
        WhoisOptions whois_options;
        whois_options.timeout = self->options.timeout;
        whois_options.max_response_bytes = self->options.max_response_bytes;
        whois_options.address_policy = self->options.address_policy;
        operation =
            whois_query(self->io, server, std::move(addresses), query, std::move(whois_options),
                        [done = std::move(done)](WhoisResponse response) {
                          done(reply_from(std::move(response)));
                        });
      }
      return operation;
    };
  }

  // ---- Registry servers: breaker, rate limit, request ---------------------

  Registry& registry_for(Protocol protocol, const std::string& host) {
    auto found = registries.find({protocol, host});
    if (found != registries.end()) return *found->second;
    std::lock_guard<std::mutex> lock(stats_mutex);
    auto& slot = registries[{protocol, host}];
    slot = std::make_unique<Registry>(io, protocol, host);
    return *slot;
  }

  // Runs `launch` on `registry` once its breaker and rate limit allow;
  // `done` gets exactly one reply, from a handler: a skip (at once) while the
  // breaker is open, else the server's answer or failure.
  std::shared_ptr<Attempt> ask(Registry& registry, Launch launch, ReplyDone done) {
    auto attempt = std::make_shared<Attempt>();
    attempt->registry = &registry;
    attempt->launch = std::move(launch);
    attempt->done = std::move(done);
    const Clock::time_point now = Clock::now();
    const bool probing = !registry.probe.expired();
    if (breaker_enabled() && (registry.breaker.is_open(now) || probing)) {
      attempt->phase = Attempt::Phase::done;
      {
        std::lock_guard<std::mutex> lock(stats_mutex);
        ++registry.skipped;
      }
      std::weak_ptr<Impl> weak = shared_from_this();
      asio::post(io, [weak, attempt, reply = skipped_reply(registry)]() mutable {
        if (weak.lock()) finish(*attempt, std::move(reply));
      });
      return attempt;
    }
    if (registry.tripped) {  // the cooldown is over: this one request tests the server
      std::lock_guard<std::mutex> lock(stats_mutex);
      registry.probe = attempt;
    }
    enqueue(registry, attempt);
    return attempt;
  }

  static RegistryReply skipped_reply(const Registry& registry) {
    RegistryReply reply;
    reply.health = Health::skipped;
    reply.error = "skipped, breaker open (" + registry.open_reason + ")";
    return reply;
  }

  void enqueue(Registry& registry, std::shared_ptr<Attempt> attempt) {
    const Clock::time_point now = Clock::now();
    if (registry.waiting.empty() && now >= registry.next_start) {
      registry.next_start = now + options.min_interval_per_registry;
      return start(std::move(attempt));
    }
    registry.waiting.push_back(std::move(attempt));
    arm(registry);
  }

  void arm(Registry& registry) {
    if (registry.timer_armed) return;
    registry.timer_armed = true;
    registry.timer.expires_at(registry.next_start);
    std::weak_ptr<Impl> weak = shared_from_this();
    Registry* target = &registry;  // registries are never erased while the Impl lives
    registry.timer.async_wait([weak, target](const std::error_code& error) {
      auto self = weak.lock();
      if (!self || error) return;
      target->timer_armed = false;
      if (target->waiting.empty()) return;  // emptied by an opening breaker
      std::shared_ptr<Attempt> attempt = std::move(target->waiting.front());
      target->waiting.pop_front();
      target->next_start = Clock::now() + self->options.min_interval_per_registry;
      if (!target->waiting.empty()) self->arm(*target);
      self->start(std::move(attempt));
    });
  }

  void start(std::shared_ptr<Attempt> attempt) {
    Registry& registry = *attempt->registry;
    attempt->phase = Attempt::Phase::asking;
    attempt->asked_at = Clock::now();
    {
      std::lock_guard<std::mutex> lock(stats_mutex);
      ++registry.lookups;
    }
    auto& asking = registry.asking;
    asking.erase(std::remove_if(asking.begin(), asking.end(),
                                [](const std::weak_ptr<Attempt>& weak) {
                                  auto alive = weak.lock();
                                  return !alive || alive->phase != Attempt::Phase::asking;
                                }),
                 asking.end());
    asking.push_back(attempt);
    std::weak_ptr<Impl> weak = shared_from_this();
    resolve(registry.host,
            [weak, attempt](std::vector<asio::ip::address> addresses, std::string error) {
              auto self = weak.lock();
              if (!self || attempt->phase != Attempt::Phase::asking) return;
              if (!error.empty()) {
                RegistryReply reply;
                reply.health = Health::unreachable;
                reply.error = std::move(error);
                // Resolvers may answer synchronously; replies always come from a handler.
                asio::post(self->io, [weak, attempt, reply = std::move(reply)]() mutable {
                  if (auto alive = weak.lock()) alive->on_reply(attempt, std::move(reply));
                });
                return;
              }
              attempt->operation =
                  attempt->launch(std::move(addresses), [weak, attempt](RegistryReply reply) {
                    if (auto alive = weak.lock()) alive->on_reply(attempt, std::move(reply));
                  });
            });
  }

  void on_reply(const std::shared_ptr<Attempt>& attempt, RegistryReply reply) {
    if (attempt->phase != Attempt::Phase::asking) return;  // given up by the breaker or shutdown
    attempt->phase = Attempt::Phase::done;
    Registry& registry = *attempt->registry;
    const bool opened = record(registry, attempt, reply);
    finish(*attempt, std::move(reply));
    if (opened) abandon_pending(registry);
  }

  // Feeds one reply to the breaker; true when it opened the breaker.
  bool record(Registry& registry, const std::shared_ptr<Attempt>& attempt,
              const RegistryReply& reply) {
    std::lock_guard<std::mutex> lock(stats_mutex);
    const bool was_probe = registry.probe.lock() == attempt;
    if (was_probe) registry.probe.reset();
    if (reply.health == Health::answered) {
      registry.breaker.record_success();
      registry.tripped = false;
      return false;
    }
    if (reply.health != Health::server_error && reply.health != Health::unreachable) return false;
    ++registry.failures;
    if (!breaker_enabled()) return false;
    const Clock::time_point now = Clock::now();
    const bool was_open = registry.breaker.is_open(now);
    // While half-open any failure reopens, as does any connection failure.
    const int threshold =
        reply.health == Health::unreachable || was_probe ? 1 : kServerErrorsToOpen;
    if (!registry.breaker.record_failure(now, threshold, options.registry_breaker_cooldown) ||
        was_open) {
      return false;
    }
    registry.tripped = true;
    registry.open_reason =
        reply.error.empty() ? "HTTP " + std::to_string(reply.status) : reply.error;
    ++registry.openings;
    return true;
  }

  // The breaker just opened: every other request for this server fails fast
  // now, whether it waits for its rate-limit slot or is already on the wire.
  void abandon_pending(Registry& registry) {
    std::vector<std::shared_ptr<Attempt>> abandoned = take_pending(registry);
    {
      std::lock_guard<std::mutex> lock(stats_mutex);
      registry.skipped += abandoned.size();
      registry.probe.reset();
    }
    for (const std::shared_ptr<Attempt>& attempt : abandoned) {
      attempt->phase = Attempt::Phase::done;  // so the cancelled request's reply is ignored
      if (auto operation = attempt->operation.lock()) operation->cancel();
    }
    // Only now call out: the callbacks may start new lookups for this server.
    for (const std::shared_ptr<Attempt>& attempt : abandoned) {
      finish(*attempt, skipped_reply(registry));
    }
  }

  // Removes and returns the attempts queued or under way for `registry`.
  static std::vector<std::shared_ptr<Attempt>> take_pending(Registry& registry) {
    std::vector<std::shared_ptr<Attempt>> pending(registry.waiting.begin(), registry.waiting.end());
    registry.waiting.clear();
    for (const std::weak_ptr<Attempt>& weak : registry.asking) {
      std::shared_ptr<Attempt> attempt = weak.lock();
      if (attempt && attempt->phase == Attempt::Phase::asking) pending.push_back(attempt);
    }
    registry.asking.clear();
    return pending;
  }

  static void finish(Attempt& attempt, RegistryReply reply) {
    ReplyDone done = std::move(attempt.done);
    attempt.done = nullptr;
    if (done) done(std::move(reply));
  }

  std::vector<RegistryStats> registry_stats() const {
    std::lock_guard<std::mutex> lock(stats_mutex);
    const Clock::time_point now = Clock::now();
    const auto wall_now = std::chrono::system_clock::now();
    std::vector<RegistryStats> all;
    all.reserve(registries.size());
    for (const auto& [key, registry] : registries) {  // sorted by protocol, then host
      RegistryStats stats;
      stats.name = registry->host;
      stats.protocol = registry->protocol == Protocol::rdap ? "rdap" : "whois";
      stats.lookups = registry->lookups;
      stats.failures = registry->failures;
      stats.skipped = registry->skipped;
      stats.breaker_open = registry->breaker.is_open(now) || !registry->probe.expired();
      if (registry->tripped) {
        stats.open_until =
            wall_now + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                           registry->breaker.open_until() - now);
      }
      stats.breaker_openings = registry->openings;
      all.push_back(std::move(stats));
    }
    return all;
  }

  // ---- Name resolution ----------------------------------------------------

  void resolve(const std::string& host, AddressesDone done) {
    if (is_ip_literal(host)) return done({asio::ip::make_address(host)}, {});
    if (!resolve_host) return done({}, "no resolver");
    std::weak_ptr<Impl> weak = shared_from_this();
    try {
      resolve_host(host, [weak, done](AddressAnswer answer) {
        if (!weak.lock()) return;
        if (answer.status != DnsStatus::ok || answer.addresses.empty()) {
          return done({}, answer.error.empty() ? std::string("cannot resolve")
                                               : "cannot resolve (" + answer.error + ")");
        }
        done(std::move(answer.addresses), {});
      });
    } catch (const std::exception& error) {
      done({}, std::string("cannot resolve (") + error.what() + ")");
    }
  }

  asio::io_context& io;
  HostResolver resolve_host;
  DomainAgeOptions options;
  std::shared_ptr<asio::ssl::context> tls_context;
  std::optional<RdapBootstrap> bootstrap;
  std::string bootstrap_error;
  std::unordered_map<std::string, CacheEntry> cache;
  std::unordered_map<std::string, std::vector<Done>> waiting;  // by domain
  std::unordered_map<std::string, Fetch> fetches;              // by domain
  std::map<std::pair<Protocol, std::string>, std::unique_ptr<Registry>> registries;
  mutable std::mutex stats_mutex;  // registries (the map) and their breakers and counters
  std::unordered_map<std::string, std::string> referral_by_tld;
  std::uint64_t next_invalid_id = 0;
  bool shut_down = false;
};

DomainAgeLookup::DomainAgeLookup(asio::io_context& io, HostResolver resolve_host,
                                 DomainAgeOptions options)
    : impl_(std::make_shared<Impl>(io, std::move(resolve_host), std::move(options))) {}

DomainAgeLookup::~DomainAgeLookup() {
  if (impl_) impl_->shutdown();
}

void DomainAgeLookup::lookup(std::string registrable_domain,
                             std::function<void(DomainAgeResult)> done) {
  impl_->lookup(std::move(registrable_domain), std::move(done));
}

void DomainAgeLookup::remember(std::string registrable_domain, int created_days,
                               std::chrono::milliseconds ttl) {
  impl_->remember(registrable_domain, created_days, ttl);
}

void DomainAgeLookup::set_options(DomainAgeOptions options) {
  impl_->apply_options(std::move(options));
}

std::vector<RegistryStats> DomainAgeLookup::registry_stats() const {
  return impl_->registry_stats();
}

LookupState DomainAgeLookup::state(std::string_view registrable_domain) const {
  return impl_->state(registrable_domain);
}

bool DomainAgeLookup::worth_waiting_for(std::string_view registrable_domain,
                                        std::chrono::steady_clock::time_point started,
                                        std::chrono::milliseconds grace) const {
  return impl_->worth_waiting_for(registrable_domain, started, grace);
}

}  // namespace mailsentry
