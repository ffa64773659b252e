// Domain age lookups: RDAP first (server from IANA's bootstrap file), WHOIS
// for TLDs without RDAP and when RDAP fails; rate limited and guarded by a
// circuit breaker per registry server, cached per domain.
#include "net/domain_age.hpp"

#include <algorithm>
#include <asio/post.hpp>
#include <asio/ssl/context.hpp>
#include <unordered_map>
#include <utility>
#include <vector>

#include "net/https_get.hpp"
#include "net/rdap_bootstrap.hpp"
#include "net/registry_gate.hpp"
#include "net/whois_client.hpp"

namespace mailsentry {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t kCacheCapacity = 100000;

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

}  // namespace

struct DomainAgeLookup::Impl : std::enable_shared_from_this<DomainAgeLookup::Impl> {
  using Done = std::function<void(DomainAgeResult)>;
  using Attempt = RegistryGate::Attempt;
  using Launch = RegistryGate::Launch;
  using ReplyDone = RegistryGate::ReplyDone;

  struct CacheEntry {
    DomainAgeResult result;
    Clock::time_point expires;
  };

  // A domain being fetched: what failed so far and the request under way.
  struct Fetch {
    std::string rdap_failure;  // "RDAP host: why", once RDAP failed
    bool breaker_skipped = false;
    std::weak_ptr<Attempt> attempt;
  };

  Impl(asio::io_context& io_context, HostResolver resolver, DomainAgeOptions initial)
      : io(io_context),
        gate(std::make_shared<RegistryGate>(io_context, std::move(resolver),
                                            gate_options(initial))) {
    apply_options(std::move(initial));
  }

  static RegistryGateOptions gate_options(const DomainAgeOptions& options) {
    RegistryGateOptions gate_options;
    gate_options.min_interval = options.min_interval_per_registry;
    gate_options.breaker_cooldown = options.registry_breaker_cooldown;
    return gate_options;
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
    gate->set_options(gate_options(options));
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
    return own && RegistryGate::worth_waiting_for(*own, started, grace);
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
    gate->shutdown();
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
    track(domain, gate->ask(RegistryProtocol::rdap, host, std::move(launch),
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
    track(domain, gate->ask(RegistryProtocol::whois, referral_server->host,
                            whois_launch(*referral_server, tld),
                            [weak, domain, tld, server = *referral_server](RegistryReply reply) {
                              if (auto self = weak.lock())
                                self->on_referral(domain, tld, server, reply);
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
    track(domain, gate->ask(RegistryProtocol::whois, server.host, whois_launch(server, domain),
                            [weak, domain, host = server.host](RegistryReply reply) {
                              if (auto self = weak.lock())
                                self->on_whois_reply(domain, host, reply);
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

  asio::io_context& io;
  std::shared_ptr<RegistryGate> gate;  // shared: its handlers hold weak references
  DomainAgeOptions options;
  std::shared_ptr<asio::ssl::context> tls_context;
  std::optional<RdapBootstrap> bootstrap;
  std::string bootstrap_error;
  std::unordered_map<std::string, CacheEntry> cache;
  std::unordered_map<std::string, std::vector<Done>> waiting;  // by domain
  std::unordered_map<std::string, Fetch> fetches;              // by domain
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

std::vector<RegistryStats> DomainAgeLookup::registry_stats() const { return impl_->gate->stats(); }

LookupState DomainAgeLookup::state(std::string_view registrable_domain) const {
  return impl_->state(registrable_domain);
}

bool DomainAgeLookup::worth_waiting_for(std::string_view registrable_domain,
                                        std::chrono::steady_clock::time_point started,
                                        std::chrono::milliseconds grace) const {
  return impl_->worth_waiting_for(registrable_domain, started, grace);
}

}  // namespace mailsentry
