// Domain age lookups: RDAP first (server from IANA's bootstrap file), WHOIS
// for TLDs without RDAP; rate limited per registry server, cached per domain.
#include "domain_age.hpp"

#include <algorithm>
#include <asio/post.hpp>
#include <asio/ssl/context.hpp>
#include <asio/steady_timer.hpp>
#include <deque>
#include <list>
#include <unordered_map>
#include <vector>

#include "https_get.hpp"
#include "rdap_bootstrap.hpp"
#include "whois_client.hpp"

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
    bool allowed = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
                   c == '_';
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

}  // namespace

struct DomainAgeLookup::Impl : std::enable_shared_from_this<DomainAgeLookup::Impl> {
  using Done = std::function<void(DomainAgeResult)>;
  using AddressesDone = std::function<void(std::vector<asio::ip::address>, std::string error)>;

  struct CacheEntry {
    DomainAgeResult result;
    Clock::time_point expires;
  };

  // Requests to one registry server start at least min_interval apart.
  struct RegistryQueue {
    explicit RegistryQueue(asio::io_context& io) : timer(io) {}
    Clock::time_point next_start{};
    std::deque<std::function<void()>> waiting;
    asio::steady_timer timer;
    bool timer_armed = false;
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
  }

  // ---- Requests and their completion -------------------------------------

  void lookup(std::string registrable_domain, Done done) {
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
      post_completion(domain, cached->second.result);
      return;
    }
    fetch(domain);
  }

  void post_completion(const std::string& key, DomainAgeResult result) {
    std::weak_ptr<Impl> weak = shared_from_this();
    asio::post(io, [weak, key, result = std::move(result)]() mutable {
      if (auto self = weak.lock()) self->deliver(key, std::move(result));
    });
  }

  void complete(const std::string& domain, DomainAgeResult result) {
    auto ttl = result.created_days ? std::chrono::duration_cast<Clock::duration>(options.cache_ttl)
                                   : std::chrono::duration_cast<Clock::duration>(
                                         options.failure_cache_ttl);
    if (ttl > Clock::duration::zero()) {
      if (cache.size() >= kCacheCapacity) evict_from_cache();
      cache[domain] = CacheEntry{result, Clock::now() + ttl};
    }
    deliver(domain, std::move(result));
  }

  void remember(std::string_view registrable_domain, int created_days,
                std::chrono::milliseconds ttl) {
    const std::string domain = normalize_domain(registrable_domain);
    const Clock::duration kept = std::min<Clock::duration>(ttl, options.cache_ttl);
    if (domain.empty() || kept <= Clock::duration::zero()) return;
    DomainAgeResult result;
    result.created_days = created_days;
    result.source = "restored";
    if (cache.size() >= kCacheCapacity && cache.count(domain) == 0) evict_from_cache();
    cache[domain] = CacheEntry{std::move(result), Clock::now() + kept};
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
    auto pending = std::move(waiting);
    waiting.clear();
    for (auto& [key, callbacks] : pending) {
      for (Done& callback : callbacks) invoke(callback, failure("domain age lookup shut down"));
    }
    for (auto& operation : operations) {
      if (auto alive = operation.lock()) alive->cancel();
    }
    operations.clear();
  }

  void track(std::shared_ptr<CancellableOperation> operation) {
    operations.remove_if([](const std::weak_ptr<CancellableOperation>& op) { return op.expired(); });
    operations.push_back(operation);
  }

  // ---- Routing: RDAP, configured WHOIS, or IANA's WHOIS referral ---------

  void fetch(const std::string& domain) {
    std::string tld = top_level_label(domain);
    std::vector<std::string> base_urls;
    if (bootstrap) base_urls = bootstrap->base_urls_for(domain);
    if (!base_urls.empty()) {
      std::string url_text = RdapBootstrap::domain_query_url(base_urls.front(), domain);
      std::optional<HttpUrl> url = parse_http_url(url_text);
      if (!url) return complete(domain, failure("unusable RDAP URL " + url_text));
      return fetch_rdap(domain, std::move(*url));
    }
    std::string why_whois = bootstrap ? "no RDAP service for ." + tld : bootstrap_error;
    if (!options.whois_server.empty()) {
      std::optional<WhoisServer> server = parse_whois_server(options.whois_server);
      if (!server) return complete(domain, failure("bad WHOIS server " + options.whois_server));
      return fetch_whois_date(domain, *server);
    }
    if (options.whois_referral_server.empty()) {
      return complete(domain, failure(why_whois + " and WHOIS is not configured"));
    }
    std::optional<WhoisServer> referral_server = parse_whois_server(options.whois_referral_server);
    if (!referral_server) {
      return complete(domain,
                      failure("bad WHOIS referral server " + options.whois_referral_server));
    }
    auto known = referral_by_tld.find(tld);
    if (known != referral_by_tld.end()) {
      return fetch_whois_date(domain, WhoisServer{known->second, referral_server->port});
    }
    std::weak_ptr<Impl> weak = shared_from_this();
    query_whois(*referral_server, tld,
                [weak, domain, tld, port = referral_server->port](WhoisResponse response) {
                  auto self = weak.lock();
                  if (!self) return;
                  if (!response.error.empty()) return self->complete(domain, failure(response.error));
                  std::string referred = whois_referral(response.text);
                  if (referred.empty()) {
                    return self->complete(domain, failure("no WHOIS server known for ." + tld));
                  }
                  self->referral_by_tld[tld] = referred;
                  self->fetch_whois_date(domain, WhoisServer{referred, port});
                });
  }

  void fetch_rdap(const std::string& domain, HttpUrl url) {
    std::weak_ptr<Impl> weak = shared_from_this();
    std::string host = url.host;
    when_allowed(host, [weak, domain, url = std::move(url)]() {
      auto self = weak.lock();
      if (!self) return;
      self->resolve(url.host, [weak, domain, url](std::vector<asio::ip::address> addresses,
                                                  std::string error) {
        auto self = weak.lock();
        if (!self) return;
        if (!error.empty()) return self->complete(domain, failure(error));
        HttpGetOptions http_options;
        http_options.timeout = self->options.timeout;
        http_options.max_body_bytes = self->options.max_response_bytes;
        http_options.verify_tls = self->options.verify_tls;
        http_options.address_policy = self->options.address_policy;
        self->track(http_get(self->io, self->tls_context, url, std::move(addresses),
                             std::move(http_options), [weak, domain](HttpResponse response) {
                               if (auto self = weak.lock()) self->on_rdap_answer(domain, response);
                             }));
      });
    });
  }

  void on_rdap_answer(const std::string& domain, const HttpResponse& response) {
    if (!response.error.empty()) return complete(domain, failure("RDAP: " + response.error));
    if (response.status == 404) {
      return complete(domain, failure("RDAP: the registry does not know " + domain));
    }
    if (response.status != 200) {
      return complete(domain,
                      failure("RDAP: server answered HTTP " + std::to_string(response.status)));
    }
    std::optional<int> days = rdap_registration_days(response.body);
    if (!days) return complete(domain, failure("RDAP: answer has no registration date"));
    DomainAgeResult result;
    result.created_days = days;
    result.source = "rdap";
    complete(domain, std::move(result));
  }

  void fetch_whois_date(const std::string& domain, const WhoisServer& server) {
    std::weak_ptr<Impl> weak = shared_from_this();
    query_whois(server, domain, [weak, domain](WhoisResponse response) {
      auto self = weak.lock();
      if (!self) return;
      if (!response.error.empty()) return self->complete(domain, failure("WHOIS: " + response.error));
      std::optional<int> days = whois_creation_days(response.text);
      if (!days) return self->complete(domain, failure("WHOIS: answer has no creation date"));
      DomainAgeResult result;
      result.created_days = days;
      result.source = "whois";
      self->complete(domain, std::move(result));
    });
  }

  // Rate limited, resolved and policy-checked WHOIS query.
  void query_whois(const WhoisServer& server, const std::string& query,
                   std::function<void(WhoisResponse)> done) {
    std::weak_ptr<Impl> weak = shared_from_this();
    when_allowed(server.host, [weak, server, query, done = std::move(done)]() mutable {
      auto self = weak.lock();
      if (!self) return;
      self->resolve(server.host, [weak, server, query, done = std::move(done)](
                                     std::vector<asio::ip::address> addresses,
                                     std::string error) mutable {
        auto self = weak.lock();
        if (!self) return;
        if (!error.empty()) {
          WhoisResponse response;
          response.error = std::move(error);
          return done(std::move(response));
        }
        WhoisOptions whois_options;
        whois_options.timeout = self->options.timeout;
        whois_options.max_response_bytes = self->options.max_response_bytes;
        whois_options.address_policy = self->options.address_policy;
        self->track(whois_query(self->io, server, std::move(addresses), query,
                                std::move(whois_options), std::move(done)));
      });
    });
  }

  // ---- Name resolution ----------------------------------------------------

  void resolve(const std::string& host, AddressesDone done) {
    if (is_ip_literal(host)) return done({asio::ip::make_address(host)}, {});
    if (!resolve_host) return done({}, "no resolver for " + host);
    std::weak_ptr<Impl> weak = shared_from_this();
    try {
      resolve_host(host, [weak, host, done](AddressAnswer answer) {
        if (!weak.lock()) return;
        if (answer.status != DnsStatus::ok || answer.addresses.empty()) {
          return done({}, "cannot resolve " + host +
                              (answer.error.empty() ? std::string() : ": " + answer.error));
        }
        done(std::move(answer.addresses), {});
      });
    } catch (const std::exception& error) {
      done({}, "cannot resolve " + host + ": " + error.what());
    }
  }

  // ---- Rate limiting per registry server ---------------------------------

  void when_allowed(const std::string& host, std::function<void()> task) {
    auto& slot = registries[host];
    if (!slot) slot = std::make_unique<RegistryQueue>(io);
    RegistryQueue& queue = *slot;
    Clock::time_point now = Clock::now();
    if (queue.waiting.empty() && now >= queue.next_start) {
      queue.next_start = now + options.min_interval_per_registry;
      task();
      return;
    }
    queue.waiting.push_back(std::move(task));
    arm(host, queue);
  }

  void arm(const std::string& host, RegistryQueue& queue) {
    if (queue.timer_armed) return;
    queue.timer_armed = true;
    queue.timer.expires_at(queue.next_start);
    std::weak_ptr<Impl> weak = shared_from_this();
    queue.timer.async_wait([weak, host](const std::error_code& error) {
      auto self = weak.lock();
      if (!self || error) return;
      RegistryQueue& queue = *self->registries[host];
      queue.timer_armed = false;
      if (queue.waiting.empty()) return;
      std::function<void()> task = std::move(queue.waiting.front());
      queue.waiting.pop_front();
      queue.next_start = Clock::now() + self->options.min_interval_per_registry;
      if (!queue.waiting.empty()) self->arm(host, queue);
      task();
    });
  }

  asio::io_context& io;
  HostResolver resolve_host;
  DomainAgeOptions options;
  std::shared_ptr<asio::ssl::context> tls_context;
  std::optional<RdapBootstrap> bootstrap;
  std::string bootstrap_error;
  std::unordered_map<std::string, CacheEntry> cache;
  std::unordered_map<std::string, std::vector<Done>> waiting;  // by domain
  std::unordered_map<std::string, std::unique_ptr<RegistryQueue>> registries;  // by host
  std::unordered_map<std::string, std::string> referral_by_tld;
  std::list<std::weak_ptr<CancellableOperation>> operations;
  std::uint64_t next_invalid_id = 0;
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

}  // namespace mailsentry
