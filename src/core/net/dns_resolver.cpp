#include "net/dns_resolver.hpp"

#include <ares.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>

#include <algorithm>
#include <array>
#include <asio/dispatch.hpp>
#include <asio/post.hpp>
#include <atomic>
#include <cctype>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <unordered_map>
#include <utility>
#include <variant>

#include "net/ares_asio_bridge.hpp"
#include "net/dns_cache.hpp"

namespace mailsentry {
namespace {

constexpr std::string_view kCancelled = "cancelled";
// However long an answer claims to live, it is asked again after a day.
constexpr std::chrono::seconds kMaxCacheTtl{86400};
// Addresses read per A/AAAA answer (more do not fit a sane DNS answer).
constexpr int kMaxAddressesPerAnswer = 128;

// ---------------------------------------------------------------- servers ---

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

bool is_ipv4_literal(const std::string& text) {
  in_addr parsed{};
  return inet_pton(AF_INET, text.c_str(), &parsed) == 1;
}

bool is_ipv6_literal(const std::string& text) {
  in6_addr parsed{};
  return inet_pton(AF_INET6, text.c_str(), &parsed) == 1;
}

std::uint16_t parse_port(std::string_view text, std::string_view item) {
  if (text.empty() || text.size() > 5 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    throw std::invalid_argument("bad DNS server port in \"" + std::string(item) + "\"");
  }
  const unsigned long port = std::stoul(std::string(text));
  if (port == 0 || port > 65535) {
    throw std::invalid_argument("DNS server port out of range in \"" + std::string(item) + "\"");
  }
  return static_cast<std::uint16_t>(port);
}

DnsServerAddress parse_one_server(std::string_view item) {
  const std::string quoted = "\"" + std::string(item) + "\"";
  if (item.empty()) throw std::invalid_argument("empty DNS server entry");
  DnsServerAddress server;
  if (item.front() == '[') {  // [v6] or [v6]:port
    const auto close = item.find(']');
    if (close == std::string_view::npos) {
      throw std::invalid_argument("unterminated '[' in DNS server " + quoted);
    }
    server.host = std::string(item.substr(1, close - 1));
    const std::string_view rest = item.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') throw std::invalid_argument("bad DNS server " + quoted);
      server.port = parse_port(rest.substr(1), item);
    }
    if (!is_ipv6_literal(server.host)) {
      throw std::invalid_argument("not an IPv6 address in DNS server " + quoted);
    }
    return server;
  }
  const auto first_colon = item.find(':');
  if (first_colon != std::string_view::npos && item.find(':', first_colon + 1) == item.npos) {
    server.host = std::string(item.substr(0, first_colon));  // v4:port
    server.port = parse_port(item.substr(first_colon + 1), item);
  } else {
    server.host = std::string(item);  // v4, or a bare v6 without a port
  }
  if (!is_ipv4_literal(server.host) && !is_ipv6_literal(server.host)) {
    throw std::invalid_argument("DNS server must be an IP address: " + quoted);
  }
  return server;
}

// ----------------------------------------------------------------- names ---

std::string normalise_name(std::string_view name) {
  name = trim(name);
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  std::string lowered(name);
  std::transform(lowered.begin(), lowered.end(), lowered.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lowered;
}

// ------------------------------------------------------ answer decoding ---

bool is_cancellation(int status) {
  return status == ARES_EDESTRUCTION || status == ARES_ECANCELLED;
}

std::string describe_failure(std::string_view what, const std::string& name, int status) {
  std::string reason;
  switch (status) {
    case ARES_ESERVFAIL:
      reason = "SERVFAIL";
      break;
    case ARES_EREFUSED:
      reason = "REFUSED";
      break;
    case ARES_ETIMEOUT:
      reason = "timeout";
      break;
    // c-ares 1.18 retries (and fails over) on SERVFAIL/REFUSED and then reports
    // this code, the same as for an unreachable server.
    case ARES_ECONNREFUSED:
      reason = "server failure (SERVFAIL, REFUSED or unreachable)";
      break;
    case ARES_EFORMERR:
      reason = "FORMERR";
      break;
    case ARES_ENOTIMP:
      reason = "NOTIMP";
      break;
    case ARES_EBADRESP:
      reason = "malformed answer";
      break;
    default:
      reason = ares_strerror(status);
      break;
  }
  return std::string(what) + " " + name + ": " + reason;
}

// Skips a possibly compressed domain name; false when it runs off the message.
bool skip_name(const unsigned char* message, int length, int& offset) {
  while (offset < length) {
    const unsigned char label_length = message[offset];
    if (label_length == 0) {
      offset += 1;
      return true;
    }
    if ((label_length & 0xC0) == 0xC0) {  // a pointer ends the name
      offset += 2;
      return offset <= length;
    }
    if ((label_length & 0xC0) != 0) return false;
    offset += 1 + label_length;
  }
  return false;
}

// The smallest TTL in the answer section (MX records and any CNAME leading to
// them): ares_parse_mx_reply does not report TTLs.
std::optional<std::chrono::seconds> smallest_answer_ttl(const unsigned char* message, int length) {
  constexpr int kHeaderSize = 12;
  if (message == nullptr || length < kHeaderSize) return std::nullopt;
  const auto read16 = [message](int at) { return (message[at] << 8) | message[at + 1]; };
  const int question_count = read16(4);
  const int answer_count = read16(6);
  int offset = kHeaderSize;
  for (int i = 0; i < question_count; ++i) {
    if (!skip_name(message, length, offset)) return std::nullopt;
    offset += 4;  // type, class
  }
  std::optional<std::uint32_t> smallest;
  for (int i = 0; i < answer_count; ++i) {
    if (!skip_name(message, length, offset) || offset + 10 > length) return std::nullopt;
    const std::uint32_t ttl = (std::uint32_t(message[offset + 4]) << 24) |
                              (std::uint32_t(message[offset + 5]) << 16) |
                              (std::uint32_t(message[offset + 6]) << 8) | message[offset + 7];
    const int data_length = read16(offset + 8);
    offset += 10 + data_length;
    if (offset > length) return std::nullopt;
    // RFC 2181 8: a TTL with the top bit set is treated as zero.
    const std::uint32_t usable_ttl = (ttl & 0x80000000u) ? 0 : ttl;
    smallest = smallest ? std::min(*smallest, usable_ttl) : usable_ttl;
  }
  if (!smallest) return std::nullopt;
  return std::chrono::seconds(*smallest);
}

// One A or AAAA query's outcome, before A and AAAA are merged.
struct AddressLookup {
  DnsStatus status = DnsStatus::inconclusive;
  bool cancelled = false;
  std::vector<asio::ip::address> addresses;
  std::chrono::seconds ttl{0};
  std::string error;
};

AddressLookup decode_address_answer(int type, const std::string& name, int status,
                                    const unsigned char* answer, int length) {
  AddressLookup lookup;
  const std::string_view type_name = type == ns_t_a ? "A" : "AAAA";
  if (is_cancellation(status)) {
    lookup.cancelled = true;
    lookup.error = std::string(kCancelled);
    return lookup;
  }
  if (status == ARES_ENOTFOUND) {
    lookup.status = DnsStatus::no_such_domain;
    return lookup;
  }
  if (status == ARES_ENODATA) {
    lookup.status = DnsStatus::no_data;
    return lookup;
  }
  if (status != ARES_SUCCESS) {
    lookup.error = describe_failure(type_name, name, status);
    return lookup;
  }
  int count = kMaxAddressesPerAnswer;
  int parse_status = ARES_SUCCESS;
  std::optional<int> smallest_ttl;
  if (type == ns_t_a) {
    std::array<ares_addrttl, kMaxAddressesPerAnswer> records{};
    parse_status = ares_parse_a_reply(answer, length, nullptr, records.data(), &count);
    for (int i = 0; parse_status == ARES_SUCCESS && i < count; ++i) {
      asio::ip::address_v4::bytes_type bytes;
      std::memcpy(bytes.data(), &records[i].ipaddr, bytes.size());
      lookup.addresses.emplace_back(asio::ip::address_v4(bytes));
      smallest_ttl = std::min(smallest_ttl.value_or(records[i].ttl), records[i].ttl);
    }
  } else {
    std::array<ares_addr6ttl, kMaxAddressesPerAnswer> records{};
    parse_status = ares_parse_aaaa_reply(answer, length, nullptr, records.data(), &count);
    for (int i = 0; parse_status == ARES_SUCCESS && i < count; ++i) {
      asio::ip::address_v6::bytes_type bytes;
      std::memcpy(bytes.data(), &records[i].ip6addr, bytes.size());
      lookup.addresses.emplace_back(asio::ip::address_v6(bytes));
      smallest_ttl = std::min(smallest_ttl.value_or(records[i].ttl), records[i].ttl);
    }
  }
  if (parse_status == ARES_ENODATA || (parse_status == ARES_SUCCESS && count == 0)) {
    lookup.status = DnsStatus::no_data;  // e.g. only a CNAME leading nowhere
    lookup.addresses.clear();
    return lookup;
  }
  if (parse_status != ARES_SUCCESS) {
    lookup.addresses.clear();
    lookup.error = describe_failure(type_name, name, ARES_EBADRESP);
    return lookup;
  }
  lookup.status = DnsStatus::ok;
  lookup.ttl = std::chrono::seconds(std::max(0, smallest_ttl.value_or(0)));
  return lookup;
}

// A and AAAA together: addresses from either make it ok.
AddressLookup merge_address_lookups(AddressLookup ipv4, AddressLookup ipv6) {
  AddressLookup merged;
  if (ipv4.cancelled || ipv6.cancelled) {
    merged.cancelled = true;
    merged.error = std::string(kCancelled);
    return merged;
  }
  const bool v4_ok = ipv4.status == DnsStatus::ok;
  const bool v6_ok = ipv6.status == DnsStatus::ok;
  if (v4_ok || v6_ok) {
    merged.status = DnsStatus::ok;
    merged.addresses = std::move(ipv4.addresses);
    merged.addresses.insert(merged.addresses.end(), ipv6.addresses.begin(), ipv6.addresses.end());
    merged.ttl = v4_ok && v6_ok ? std::min(ipv4.ttl, ipv6.ttl) : (v4_ok ? ipv4.ttl : ipv6.ttl);
    return merged;
  }
  if (ipv4.status == DnsStatus::inconclusive || ipv6.status == DnsStatus::inconclusive) {
    merged.status = DnsStatus::inconclusive;
    merged.error = !ipv4.error.empty() ? ipv4.error : ipv6.error;
    if (!ipv4.error.empty() && !ipv6.error.empty()) merged.error += "; " + ipv6.error;
    return merged;
  }
  merged.status =
      (ipv4.status == DnsStatus::no_such_domain || ipv6.status == DnsStatus::no_such_domain)
          ? DnsStatus::no_such_domain
          : DnsStatus::no_data;
  return merged;
}

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

// Runs the user's callback later on the io_context thread; whatever it throws
// stays here rather than killing the thread that runs the io_context.
template <typename Answer>
void deliver(asio::io_context& io, std::function<void(Answer)> done, Answer answer) {
  if (!done) return;
  asio::post(io, [done = std::move(done), answer = std::move(answer)]() mutable {
    try {
      done(std::move(answer));
    } catch (...) {
    }
  });
}

// Identical lookups share one query while it is in flight: the first opens a
// flight, later ones join it as waiters, and whoever ends the query completes
// the flight, which hands each waiter its own copy of the one answer.
template <typename Answer>
struct Flight {
  std::vector<std::function<void(Answer)>> waiters;
};

template <typename Answer>
using Flights = std::unordered_map<std::string, std::shared_ptr<Flight<Answer>>>;

}  // namespace

std::vector<DnsServerAddress> parse_dns_servers(std::string_view spec) {
  std::vector<DnsServerAddress> servers;
  if (trim(spec).empty()) return servers;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = spec.find(',', start);
    const std::string_view item =
        trim(spec.substr(start, comma == std::string_view::npos ? spec.npos : comma - start));
    servers.push_back(parse_one_server(item));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return servers;
}

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

  // Adds done to the lookup of key already in flight, if there is one.
  template <typename Answer>
  bool join_flight(Flights<Answer>& flights, const std::string& key,
                   std::function<void(Answer)>& done) {
    const auto found = flights.find(key);
    if (found == flights.end()) return false;
    found->second->waiters.push_back(std::move(done));
    coalesced.fetch_add(1, std::memory_order_relaxed);
    return true;
  }

  // Opens the flight of key with done as its first waiter. The function
  // returned completes it: it closes the flight, so that later lookups ask
  // again (or find the cache filled), and delivers the answer to every waiter.
  // It runs once per flight, also with "cancelled" while the channel dies, and
  // then touches the Impl only while it is alive.
  template <typename Answer>
  std::function<void(Answer)> open_flight(Flights<Answer>& flights, const std::string& key,
                                          std::function<void(Answer)> done) {
    auto flight = std::make_shared<Flight<Answer>>();
    flight->waiters.push_back(std::move(done));
    flights[key] = flight;
    asio::io_context& io_context = io;
    return [&io_context, &flights, alive = std::weak_ptr<char>(alive), key, flight](Answer answer) {
      if (!alive.expired()) close_flight(flights, key, flight);
      std::vector<std::function<void(Answer)>> waiters = std::move(flight->waiters);
      flight->waiters.clear();
      for (std::size_t i = 0; i + 1 < waiters.size(); ++i) {
        deliver(io_context, std::move(waiters[i]), Answer(answer));
      }
      if (!waiters.empty()) deliver(io_context, std::move(waiters.back()), std::move(answer));
    };
  }

  // Forgets the flight of key if it is still this one.
  template <typename Answer>
  static void close_flight(Flights<Answer>& flights, const std::string& key,
                           const std::shared_ptr<Flight<Answer>>& flight) {
    const auto found = flights.find(key);
    if (found != flights.end() && found->second == flight) flights.erase(found);
  }

  // Sends the query of a flight just opened; should sending throw (allocation
  // failure), the flight is closed rather than left to swallow later lookups.
  template <typename Answer, typename Send>
  void send_for_flight(Flights<Answer>& flights, const std::string& key, Send send) {
    const std::shared_ptr<Flight<Answer>> flight = flights.at(key);
    try {
      send();
    } catch (...) {
      close_flight(flights, key, flight);
      throw;
    }
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
  // flight, else opens a flight and sends the query; `done` below is then the
  // flight's completion, run exactly once, and the cache is filled once.
  void start_addresses(const std::string& name, std::function<void(AddressAnswer)> done) {
    const std::string key = "ADDR " + name;
    if (answer_from_cache(key, done)) return;
    if (join_flight(address_flights, key, done)) return;
    auto complete = open_flight(address_flights, key, std::move(done));
    send_for_flight(address_flights, key, [&] {
      query_all_addresses(name, [this, key, complete](AddressLookup lookup) {
        if (lookup.cancelled) return complete(cancelled_answer<AddressAnswer>());
        AddressAnswer answer = to_address_answer(lookup);
        remember(key, answer, answer.status, lookup.ttl);
        complete(std::move(answer));
      });
    });
  }

  void start_a(const std::string& name, std::function<void(AddressAnswer)> done) {
    const std::string key = "A " + name;
    if (answer_from_cache(key, done)) return;
    if (join_flight(address_flights, key, done)) return;
    auto complete = open_flight(address_flights, key, std::move(done));
    send_for_flight(address_flights, key, [&] {
      query_addresses_of_type(name, ns_t_a, [this, key, complete](AddressLookup lookup) {
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
    auto complete = open_flight(mx_flights, key, std::move(done));
    send_for_flight(mx_flights, key, [&] { query_mx(domain, key, complete); });
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
    ares_mx_reply* records = nullptr;
    if (status == ARES_SUCCESS) {
      status = ares_parse_mx_reply(raw_answer, length, &records);
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
    bool only_root_exchanges = true;
    for (const ares_mx_reply* record = records; record != nullptr; record = record->next) {
      std::string host = normalise_name(record->host != nullptr ? record->host : "");
      if (host.empty()) continue;  // "." never names a mail host
      only_root_exchanges = false;
      answer.hosts.push_back(MxHost{record->priority, std::move(host)});
    }
    ares_free_data(records);
    std::stable_sort(answer.hosts.begin(), answer.hosts.end(),
                     [](const MxHost& a, const MxHost& b) { return a.preference < b.preference; });
    answer.status = DnsStatus::ok;
    answer.null_mx = only_root_exchanges;  // RFC 7505: "0 ." alone
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
  // Lookups in flight by cache key ("MX x", "ADDR x", "A x"); io thread only.
  Flights<MxAnswer> mx_flights;
  Flights<AddressAnswer> address_flights;
  // Work dispatched from other threads checks this before touching the Impl.
  std::shared_ptr<char> alive = std::make_shared<char>();
  std::unique_ptr<AresAsioChannel> channel;  // last: destroyed first
};

namespace {

// Runs start(impl) on the io_context thread (inline when already there), or
// completes with "cancelled" when the resolver is gone by then.
template <typename Answer, typename Start>
void run_on_io_thread(asio::io_context& io, std::weak_ptr<char> alive,
                      std::function<void(Answer)> done, Start start) {
  asio::dispatch(io, [&io, alive = std::move(alive), done = std::move(done),
                      start = std::move(start)]() mutable {
    if (alive.expired()) return deliver(io, std::move(done), cancelled_answer<Answer>());
    try {
      start(std::move(done));
    } catch (...) {
      // Allocation failure: nothing sensible is left to report.
    }
  });
}

template <typename Answer>
bool reject_empty_name(asio::io_context& io, const std::string& name,
                       std::function<void(Answer)>& done) {
  if (!name.empty()) return false;
  Answer answer;
  answer.error = "empty domain name";
  deliver(io, std::move(done), std::move(answer));
  return true;
}

}  // namespace

DnsResolver::DnsResolver(asio::io_context& io, DnsOptions options)
    : impl_(std::make_unique<Impl>(io, std::move(options))) {}

DnsResolver::~DnsResolver() = default;

void DnsResolver::resolve_mx(std::string domain, std::function<void(MxAnswer)> done) {
  std::string name = normalise_name(domain);
  if (reject_empty_name(impl_->io, name, done)) return;
  run_on_io_thread<MxAnswer>(impl_->io, impl_->alive, std::move(done),
                             [impl = impl_.get(), name = std::move(name)](auto done) {
                               impl->start_mx(name, std::move(done));
                             });
}

void DnsResolver::resolve_mx_fresh(std::string domain, std::function<void(MxAnswer)> done) {
  std::string name = normalise_name(domain);
  if (reject_empty_name(impl_->io, name, done)) return;
  run_on_io_thread<MxAnswer>(impl_->io, impl_->alive, std::move(done),
                             [impl = impl_.get(), name = std::move(name)](auto done) {
                               impl->start_mx_fresh(name, std::move(done));
                             });
}

void DnsResolver::resolve_addresses(std::string host, std::function<void(AddressAnswer)> done) {
  std::string name = normalise_name(host);
  if (reject_empty_name(impl_->io, name, done)) return;
  run_on_io_thread<AddressAnswer>(impl_->io, impl_->alive, std::move(done),
                                  [impl = impl_.get(), name = std::move(name)](auto done) {
                                    impl->start_addresses(name, std::move(done));
                                  });
}

void DnsResolver::resolve_a(std::string name, std::function<void(AddressAnswer)> done) {
  std::string normalised = normalise_name(name);
  if (reject_empty_name(impl_->io, normalised, done)) return;
  run_on_io_thread<AddressAnswer>(impl_->io, impl_->alive, std::move(done),
                                  [impl = impl_.get(), name = std::move(normalised)](auto done) {
                                    impl->start_a(name, std::move(done));
                                  });
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
