#include "net/dns_resolver.hpp"

#include <ares.h>
#include <arpa/nameser.h>

#include <algorithm>
#include <asio/dispatch.hpp>
#include <atomic>
#include <optional>
#include <utility>
#include <variant>

#include "net/ares_asio_bridge.hpp"
#include "net/dns_answer_decoding.hpp"
#include "net/dns_cache.hpp"
#include "net/dns_flights.hpp"

namespace mailsentry {
namespace {

// However long an answer claims to live, it is asked again after a day.
constexpr std::chrono::seconds kMaxCacheTtl{86400};

AddressAnswer to_address_answer(const AddressLookup& lookup) {
  AddressAnswer answer;
  answer.status = lookup.status;
  answer.addresses = lookup.addresses;
  answer.error = lookup.error;
  return answer;
}

template <typename Answer>
Answer cancelled_answer() {
  Answer answer;
  answer.status = DnsStatus::inconclusive;
  answer.error = std::string(kCancelled);
  return answer;
}

}  // namespace

// ------------------------------------------------------------- resolver ---

struct DnsResolver::Impl {
  using CachedAnswer = std::variant<MxAnswer, AddressAnswer>;
  using AddressLookupDone = std::function<void(AddressLookup)>;

  Impl(asio::io_context& io_context, DnsOptions dns_options)
      : io(io_context),
        options(std::move(dns_options)),
        cache(options.cache_capacity),
        channel(make_channel(io_context, options)) {}

  // Pending callbacks (every waiter of every flight) are completed with
  // "cancelled" while the channel dies; handlers already posted from other
  // threads see `alive` expired.
  ~Impl() {
    alive.reset();
    channel.reset();
  }

  static std::unique_ptr<AresAsioChannel> make_channel(asio::io_context& io,
                                                       const DnsOptions& options) {
    AresChannelSettings settings;
    for (const DnsServerAddress& server : options.servers) {
      settings.servers.push_back(AresServer{server.host, server.port});
    }
    settings.timeout = std::max(options.timeout, std::chrono::milliseconds(1));
    settings.tries = std::max(1, options.tries);
    return std::make_unique<AresAsioChannel>(io, settings);
  }

  // Normalises `raw_name` and runs (this->*start)(name, done) on the
  // io_context thread (inline when already there); an empty name fails at
  // once, and a resolver gone by then completes with "cancelled". Any thread.
  template <typename Answer>
  void begin(std::string_view raw_name, std::function<void(Answer)> done,
             void (Impl::*start)(const std::string&, std::function<void(Answer)>)) {
    std::string name = normalise_name(raw_name);
    if (name.empty()) {
      Answer answer;
      answer.error = "empty domain name";
      return deliver(io, std::move(done), std::move(answer));
    }
    asio::io_context& io_context = io;  // outlives the Impl
    asio::dispatch(io, [&io_context, this, alive = std::weak_ptr<char>(alive),
                        name = std::move(name), done = std::move(done), start]() mutable {
      if (alive.expired()) {
        return deliver(io_context, std::move(done), cancelled_answer<Answer>());
      }
      try {
        (this->*start)(name, std::move(done));
      } catch (...) {
        // Allocation failure: nothing sensible is left to report.
      }
    });
  }

  std::chrono::seconds clamp_ttl(std::chrono::seconds ttl) const {
    return std::clamp(ttl, std::chrono::seconds::zero(), kMaxCacheTtl);
  }

  void count_failure(int status) {
    if (status == ARES_ETIMEOUT) {
      timeouts.fetch_add(1, std::memory_order_relaxed);
    } else if (status != ARES_SUCCESS && status != ARES_ENOTFOUND && status != ARES_ENODATA &&
               !is_cancellation(status)) {
      failures.fetch_add(1, std::memory_order_relaxed);
    }
  }

  template <typename Answer>
  bool answer_from_cache(const std::string& key, const std::function<void(Answer)>& done) {
    std::optional<CachedAnswer> cached = cache.get(key, std::chrono::steady_clock::now());
    if (!cached) return false;
    Answer* answer = std::get_if<Answer>(&*cached);
    if (answer == nullptr) return false;
    answer->from_cache = true;
    cache_hits.fetch_add(1, std::memory_order_relaxed);
    deliver(io, done, std::move(*answer));
    return true;
  }

  // Adds `done` to the identical lookup in flight, if there is one.
  template <typename Answer>
  bool join_flight(DnsFlights<Answer>& flights, const std::string& key,
                   std::function<void(Answer)>& done) {
    if (!flights.join(key, done)) return false;
    coalesced.fetch_add(1, std::memory_order_relaxed);
    return true;
  }

  void remember(const std::string& key, CachedAnswer answer, DnsStatus status,
                std::chrono::seconds positive_ttl) {
    switch (status) {
      case DnsStatus::ok:
        cache.put(key, std::move(answer), clamp_ttl(positive_ttl),
                  std::chrono::steady_clock::now());
        break;
      case DnsStatus::no_such_domain:
      case DnsStatus::no_data:
        cache.put(key, std::move(answer), clamp_ttl(options.negative_ttl),
                  std::chrono::steady_clock::now());
        break;
      case DnsStatus::inconclusive:
        break;  // the next attempt may well succeed
    }
  }

  void seed_mx(const std::string& domain, MxAnswer answer, std::chrono::milliseconds ttl) {
    using Clock = std::chrono::steady_clock;
    Clock::duration cap = kMaxCacheTtl;
    switch (answer.status) {
      case DnsStatus::ok:
        if (answer.hosts.empty() && !answer.null_mx) return;  // says nothing usable
        break;
      case DnsStatus::no_such_domain:
      case DnsStatus::no_data:
        // negative_ttl 0 means "always ask again": a restored answer obeys it too.
        cap = clamp_ttl(options.negative_ttl);
        break;
      case DnsStatus::inconclusive:
        return;
    }
    answer.error.clear();
    answer.from_cache = false;
    cache.put("MX " + domain, std::move(answer), std::min<Clock::duration>(ttl, cap), Clock::now());
  }

  // One A or AAAA query. The callback gets a cancelled lookup when the channel
  // goes away; it must then touch nothing but what it captured.
  void query_addresses_of_type(const std::string& name, int type, AddressLookupDone done) {
    queries.fetch_add(1, std::memory_order_relaxed);
    channel->query(name, type,
                   [this, name, type, done = std::move(done)](
                       int status, const unsigned char* answer, int length) {
                     if (!is_cancellation(status)) count_failure(status);
                     AddressLookup lookup =
                         decode_address_answer(type, name, status, answer, length);
                     if (status == ARES_SUCCESS && lookup.status == DnsStatus::inconclusive) {
                       failures.fetch_add(1, std::memory_order_relaxed);  // broken records
                     }
                     done(std::move(lookup));
                   });
  }

  // A and AAAA concurrently, merged once both are back.
  void query_all_addresses(const std::string& name, AddressLookupDone done) {
    struct Pair {
      AddressLookup ipv4, ipv6;
      int outstanding = 2;
      AddressLookupDone done;
    };
    auto pair = std::make_shared<Pair>();
    pair->done = std::move(done);
    const auto finish_one = [pair] {
      if (--pair->outstanding == 0) {
        pair->done(merge_address_lookups(std::move(pair->ipv4), std::move(pair->ipv6)));
      }
    };
    query_addresses_of_type(name, ns_t_a, [pair, finish_one](AddressLookup lookup) {
      pair->ipv4 = std::move(lookup);
      finish_one();
    });
    query_addresses_of_type(name, ns_t_aaaa, [pair, finish_one](AddressLookup lookup) {
      pair->ipv6 = std::move(lookup);
      finish_one();
    });
  }

  // Each start_*() answers from the cache, else joins the identical lookup in
  // flight, else opens a flight and sends the query; `complete` below is the
  // flight's completion, run exactly once, and the cache is filled once.
  void start_addresses(const std::string& name, std::function<void(AddressAnswer)> done) {
    start_address_flight("ADDR " + name, std::move(done), [this, name](AddressLookupDone got) {
      query_all_addresses(name, std::move(got));
    });
  }

  void start_a(const std::string& name, std::function<void(AddressAnswer)> done) {
    start_address_flight("A " + name, std::move(done), [this, name](AddressLookupDone got) {
      query_addresses_of_type(name, ns_t_a, std::move(got));
    });
  }

  template <typename Query>
  void start_address_flight(const std::string& key, std::function<void(AddressAnswer)> done,
                            Query query) {
    if (answer_from_cache(key, done)) return;
    if (join_flight(address_flights, key, done)) return;
    address_flights.open(key, std::move(done), [&](std::function<void(AddressAnswer)> complete) {
      query([this, key, complete = std::move(complete)](AddressLookup lookup) {
        if (lookup.cancelled) return complete(cancelled_answer<AddressAnswer>());
        AddressAnswer answer = to_address_answer(lookup);
        remember(key, answer, answer.status, lookup.ttl);
        complete(std::move(answer));
      });
    });
  }

  void start_mx(const std::string& domain, std::function<void(MxAnswer)> done) {
    const std::string key = "MX " + domain;
    if (answer_from_cache(key, done)) return;
    if (join_flight(mx_flights, key, done)) return;
    mx_flights.open(key, std::move(done), [&](std::function<void(MxAnswer)> complete) {
      query_mx(domain, key, std::move(complete));
    });
  }

  // No cache, no flight: the query is this lookup's alone.
  void start_mx_fresh(const std::string& domain, std::function<void(MxAnswer)> done) {
    asio::io_context& io_context = io;
    query_mx(domain, "MX " + domain, [&io_context, done = std::move(done)](MxAnswer answer) {
      deliver(io_context, done, std::move(answer));
    });
  }

  void query_mx(const std::string& domain, const std::string& key,
                std::function<void(MxAnswer)> complete) {
    queries.fetch_add(1, std::memory_order_relaxed);
    channel->query(domain, ns_t_mx,
                   [this, domain, key, complete = std::move(complete)](
                       int status, const unsigned char* answer, int length) {
                     if (is_cancellation(status)) return complete(cancelled_answer<MxAnswer>());
                     count_failure(status);
                     on_mx_answer(domain, key, complete, status, answer, length);
                   });
  }

  void on_mx_answer(const std::string& domain, const std::string& key,
                    const std::function<void(MxAnswer)>& done, int status,
                    const unsigned char* raw_answer, int length) {
    MxAnswer answer;
    if (status == ARES_ENOTFOUND) {
      answer.status = DnsStatus::no_such_domain;
      remember(key, answer, answer.status, {});
      return done(std::move(answer));
    }
    if (status == ARES_SUCCESS) {
      status = decode_mx_answer(raw_answer, length, answer);
      if (status != ARES_SUCCESS && status != ARES_ENODATA) {
        failures.fetch_add(1, std::memory_order_relaxed);  // rcode fine, records broken
        status = ARES_EBADRESP;
      }
    }
    if (status == ARES_ENODATA) return fall_back_to_addresses(domain, key, done);
    if (status != ARES_SUCCESS) {
      answer.error = describe_failure("MX", domain, status);
      return done(std::move(answer));
    }
    answer.status = DnsStatus::ok;
    const auto ttl = smallest_answer_ttl(raw_answer, length).value_or(options.default_ttl);
    remember(key, answer, answer.status, ttl);
    done(std::move(answer));
  }

  // RFC 5321 5.1: no MX at all, so the domain itself is the mail host if it
  // has an address.
  void fall_back_to_addresses(const std::string& domain, const std::string& key,
                              const std::function<void(MxAnswer)>& done) {
    query_all_addresses(domain, [this, domain, key, done](AddressLookup lookup) {
      if (lookup.cancelled) return done(cancelled_answer<MxAnswer>());
      MxAnswer answer;
      answer.status = lookup.status;
      answer.error = lookup.error;
      if (lookup.status == DnsStatus::ok) {
        answer.implicit_mx = true;
        answer.hosts.push_back(MxHost{0, domain});
      }
      remember(key, answer, answer.status, lookup.ttl);
      done(std::move(answer));
    });
  }

  asio::io_context& io;
  DnsOptions options;
  TtlLruCache<CachedAnswer> cache;
  std::atomic<std::uint64_t> queries{0};
  std::atomic<std::uint64_t> cache_hits{0};
  std::atomic<std::uint64_t> coalesced{0};
  std::atomic<std::uint64_t> timeouts{0};
  std::atomic<std::uint64_t> failures{0};
  // Work dispatched from other threads checks this before touching the Impl.
  std::shared_ptr<char> alive = std::make_shared<char>();
  // Lookups in flight by cache key ("MX x", "ADDR x", "A x"); io thread only.
  DnsFlights<MxAnswer> mx_flights{io, alive};
  DnsFlights<AddressAnswer> address_flights{io, alive};
  std::unique_ptr<AresAsioChannel> channel;  // last: destroyed first
};

DnsResolver::DnsResolver(asio::io_context& io, DnsOptions options)
    : impl_(std::make_unique<Impl>(io, std::move(options))) {}

DnsResolver::~DnsResolver() = default;

void DnsResolver::resolve_mx(std::string domain, std::function<void(MxAnswer)> done) {
  impl_->begin(domain, std::move(done), &Impl::start_mx);
}

void DnsResolver::resolve_mx_fresh(std::string domain, std::function<void(MxAnswer)> done) {
  impl_->begin(domain, std::move(done), &Impl::start_mx_fresh);
}

void DnsResolver::resolve_addresses(std::string host, std::function<void(AddressAnswer)> done) {
  impl_->begin(host, std::move(done), &Impl::start_addresses);
}

void DnsResolver::resolve_a(std::string name, std::function<void(AddressAnswer)> done) {
  impl_->begin(name, std::move(done), &Impl::start_a);
}

void DnsResolver::seed_mx(std::string domain, MxAnswer answer, std::chrono::milliseconds ttl) {
  std::string name = normalise_name(domain);
  if (name.empty()) return;
  // Same shape as a fetched answer: normalised hosts in preference order.
  for (MxHost& host : answer.hosts) host.host = normalise_name(host.host);
  answer.hosts.erase(std::remove_if(answer.hosts.begin(), answer.hosts.end(),
                                    [](const MxHost& host) { return host.host.empty(); }),
                     answer.hosts.end());
  std::stable_sort(answer.hosts.begin(), answer.hosts.end(),
                   [](const MxHost& a, const MxHost& b) { return a.preference < b.preference; });
  asio::dispatch(impl_->io, [impl = impl_.get(), alive = std::weak_ptr<char>(impl_->alive),
                             name = std::move(name), answer = std::move(answer), ttl]() mutable {
    if (!alive.expired()) impl->seed_mx(name, std::move(answer), ttl);
  });
}

void DnsResolver::reconfigure(DnsOptions options) {
  // Built first so that bad options leave the resolver as it was.
  auto new_channel = Impl::make_channel(impl_->io, options);
  std::unique_ptr<AresAsioChannel> old_channel = std::move(impl_->channel);
  impl_->channel = std::move(new_channel);
  impl_->options = std::move(options);
  impl_->cache = TtlLruCache<Impl::CachedAnswer>(impl_->options.cache_capacity);
  // Lookups from now on never join a query sent to the old servers; those
  // queries complete with "cancelled", to every waiter, as the channel dies.
  impl_->mx_flights.clear();
  impl_->address_flights.clear();
  old_channel.reset();
}

DnsResolver::Stats DnsResolver::stats() const {
  Stats stats;
  stats.queries = impl_->queries.load(std::memory_order_relaxed);
  stats.cache_hits = impl_->cache_hits.load(std::memory_order_relaxed);
  stats.coalesced = impl_->coalesced.load(std::memory_order_relaxed);
  stats.timeouts = impl_->timeouts.load(std::memory_order_relaxed);
  stats.failures = impl_->failures.load(std::memory_order_relaxed);
  return stats;
}

}  // namespace mailsentry
