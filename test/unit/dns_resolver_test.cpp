// DnsResolver against a real dnsmasq (and a stub server for failures) on
// loopback. Nothing here talks to any other address.
#include "net/dns_resolver.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <asio/executor_work_guard.hpp>
#include <asio/post.hpp>
#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "dnsmasq_fixture.hpp"
#include "net/dns_cache.hpp"

namespace mailsentry {
namespace {

using namespace std::chrono_literals;
using test_support::DnsmasqServer;
using test_support::StubDnsServer;

std::vector<std::string> zone_records() {
  return {
      "--local=/test.example/",  // authoritative: unknown names are NXDOMAIN
      "--mx-host=mx.test.example,b.mail.test.example,20",
      "--mx-host=mx.test.example,c.mail.test.example,30",
      "--mx-host=mx.test.example,a.mail.test.example,10",
      "--mx-host=upper.test.example,MAIL.Upper.Test.Example,5",
      "--mx-host=dual.test.example,a.mail.test.example,10",
      // RFC 7505 null MX: preference 0, exchange "." (the root label).
      "--dns-rr=nullmx.test.example,15,000000",
      "--host-record=a.mail.test.example,192.0.2.1",
      "--host-record=aonly.test.example,192.0.2.10",
      "--host-record=v6only.test.example,2001:db8::6",
      "--host-record=dual.test.example,192.0.2.20,2001:db8::20",
      "--host-record=short.test.example,192.0.2.77,1",  // TTL 1 s
      "--txt-record=txtonly.test.example,hello",
      "--cname=alias.test.example,mx.test.example",
      "--cname=www.test.example,dual.test.example",
  };
}

DnsOptions options_for(const std::string& ip, std::uint16_t port) {
  DnsOptions options;
  options.servers = {DnsServerAddress{ip, port}};
  options.timeout = 1000ms;
  options.tries = 2;
  return options;
}

// Runs the io_context until the callback has run (or 10 s passed) and checks
// that it ran exactly once.
template <typename Answer, typename Start>
Answer resolve_now(asio::io_context& io, Start start) {
  std::optional<Answer> result;
  int calls = 0;
  start([&](Answer answer) {
    ++calls;
    result = std::move(answer);
  });
  io.restart();
  io.run_for(10s);
  EXPECT_EQ(calls, 1);
  return result.value_or(Answer{});
}

MxAnswer mx_of(DnsResolver& resolver, asio::io_context& io, const std::string& domain) {
  return resolve_now<MxAnswer>(io,
                               [&](auto done) { resolver.resolve_mx(domain, std::move(done)); });
}

AddressAnswer addresses_of(DnsResolver& resolver, asio::io_context& io, const std::string& host) {
  return resolve_now<AddressAnswer>(
      io, [&](auto done) { resolver.resolve_addresses(host, std::move(done)); });
}

AddressAnswer a_of(DnsResolver& resolver, asio::io_context& io, const std::string& name) {
  return resolve_now<AddressAnswer>(io,
                                    [&](auto done) { resolver.resolve_a(name, std::move(done)); });
}

std::vector<std::string> host_names(const MxAnswer& answer) {
  std::vector<std::string> names;
  for (const MxHost& host : answer.hosts) names.push_back(host.host);
  return names;
}

std::set<std::string> address_texts(const AddressAnswer& answer) {
  std::set<std::string> texts;
  for (const auto& address : answer.addresses) texts.insert(address.to_string());
  return texts;
}

// The answers to many lookups started at once, each callback with an index of
// its own so that "each ran exactly once" can be checked.
template <typename Answer>
class LookupBatch {
 public:
  explicit LookupBatch(int size) : calls_(size, 0), answers_(size) {}

  std::function<void(Answer)> callback(int index) {
    return [this, index](Answer answer) {
      ++calls_[index];
      answers_[index] = std::move(answer);
    };
  }

  int size() const { return static_cast<int>(calls_.size()); }
  int finished() const {
    return static_cast<int>(
        std::count_if(calls_.begin(), calls_.end(), [](int c) { return c > 0; }));
  }
  bool all_finished() const { return finished() == size(); }
  int calls(int index) const { return calls_[index]; }
  const Answer& answer(int index) const { return answers_[index]; }

 private:
  std::vector<int> calls_;
  std::vector<Answer> answers_;
};

// Runs the io_context until done() holds (or limit passed), then a little
// longer so that a callback run twice would show.
template <typename Predicate>
void run_until(asio::io_context& io, Predicate done, std::chrono::milliseconds limit = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    io.restart();
    if (io.run_one_for(50ms) == 0 && io.stopped()) std::this_thread::sleep_for(1ms);
  }
  io.restart();
  io.run_for(200ms);
}

std::vector<std::string> address_list(const AddressAnswer& answer) {
  std::vector<std::string> texts;
  for (const auto& address : answer.addresses) texts.push_back(address.to_string());
  return texts;
}

class DnsResolverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(dnsmasq_.start(&error)) << error;
    resolver_ = std::make_unique<DnsResolver>(io_, options_for(dnsmasq_.ip(), dnsmasq_.port()));
  }

  DnsmasqServer dnsmasq_{zone_records()};
  asio::io_context io_;
  std::unique_ptr<DnsResolver> resolver_;
};

// ------------------------------------------------------------------ MX ---

TEST_F(DnsResolverTest, MultipleMxSortedByPreference) {
  const MxAnswer answer = mx_of(*resolver_, io_, "mx.test.example");
  ASSERT_EQ(answer.status, DnsStatus::ok) << answer.error;
  EXPECT_FALSE(answer.null_mx);
  EXPECT_FALSE(answer.implicit_mx);
  EXPECT_FALSE(answer.from_cache);
  EXPECT_TRUE(answer.accepts_mail());
  ASSERT_EQ(answer.hosts.size(), 3u);
  EXPECT_EQ(answer.hosts[0].preference, 10);
  EXPECT_EQ(answer.hosts[1].preference, 20);
  EXPECT_EQ(answer.hosts[2].preference, 30);
  EXPECT_EQ(host_names(answer),
            (std::vector<std::string>{"a.mail.test.example", "b.mail.test.example",
                                      "c.mail.test.example"}));
}

TEST_F(DnsResolverTest, MxHostLowerCasedWithoutTrailingDot) {
  const MxAnswer answer = mx_of(*resolver_, io_, "UPPER.test.example.");
  ASSERT_EQ(answer.status, DnsStatus::ok) << answer.error;
  ASSERT_EQ(answer.hosts.size(), 1u);
  EXPECT_EQ(answer.hosts[0].host, "mail.upper.test.example");
  EXPECT_EQ(answer.hosts[0].preference, 5);
}

TEST_F(DnsResolverTest, NullMxMeansNoMail) {
  const MxAnswer answer = mx_of(*resolver_, io_, "nullmx.test.example");
  EXPECT_EQ(answer.status, DnsStatus::ok) << answer.error;
  EXPECT_TRUE(answer.null_mx);
  EXPECT_FALSE(answer.implicit_mx);
  EXPECT_TRUE(answer.hosts.empty());
  EXPECT_FALSE(answer.accepts_mail());
  // A null MX is an MX: no A/AAAA fallback was tried.
  EXPECT_EQ(dnsmasq_.query_count("A", "nullmx.test.example"), 0);
}

TEST_F(DnsResolverTest, ImplicitMxFromIpv4Address) {
  const MxAnswer answer = mx_of(*resolver_, io_, "aonly.test.example");
  ASSERT_EQ(answer.status, DnsStatus::ok) << answer.error;
  EXPECT_TRUE(answer.implicit_mx);
  EXPECT_FALSE(answer.null_mx);
  ASSERT_EQ(answer.hosts.size(), 1u);
  EXPECT_EQ(answer.hosts[0].host, "aonly.test.example");
  EXPECT_TRUE(answer.accepts_mail());
}

TEST_F(DnsResolverTest, ImplicitMxFromIpv6Address) {
  const MxAnswer answer = mx_of(*resolver_, io_, "v6only.test.example");
  ASSERT_EQ(answer.status, DnsStatus::ok) << answer.error;
  EXPECT_TRUE(answer.implicit_mx);
  EXPECT_EQ(host_names(answer), std::vector<std::string>{"v6only.test.example"});
}

TEST_F(DnsResolverTest, NoFallbackWhenMxExists) {
  // dual.test.example has an MX and addresses of its own: the MX wins.
  const MxAnswer answer = mx_of(*resolver_, io_, "dual.test.example");
  ASSERT_EQ(answer.status, DnsStatus::ok) << answer.error;
  EXPECT_FALSE(answer.implicit_mx);
  EXPECT_EQ(host_names(answer), std::vector<std::string>{"a.mail.test.example"});
  EXPECT_EQ(dnsmasq_.query_count("A", "dual.test.example"), 0);
}

TEST_F(DnsResolverTest, NoMxAndNoAddressIsNoData) {
  const MxAnswer answer = mx_of(*resolver_, io_, "txtonly.test.example");
  EXPECT_EQ(answer.status, DnsStatus::no_data) << answer.error;
  EXPECT_TRUE(answer.hosts.empty());
  EXPECT_FALSE(answer.accepts_mail());
  EXPECT_EQ(dnsmasq_.wait_for_query_count("A", "txtonly.test.example", 1), 1);
  EXPECT_EQ(dnsmasq_.wait_for_query_count("AAAA", "txtonly.test.example", 1), 1);
}

TEST(DnsResolverTcp, LargeAnswerRetriedOverTcp) {
  // 60 MX records do not fit a 512-byte UDP answer: dnsmasq sets TC and c-ares
  // asks again over TCP (connect, write, piecewise reads).
  std::vector<std::string> records = {"--local=/test.example/"};
  for (int i = 0; i < 60; ++i) {
    records.push_back("--mx-host=big.test.example,mail-exchanger-number-" + std::to_string(i) +
                      ".test.example," + std::to_string(100 - i));
  }
  DnsmasqServer dnsmasq(records);
  std::string error;
  ASSERT_TRUE(dnsmasq.start(&error)) << error;
  asio::io_context io;
  DnsResolver resolver(io, options_for(dnsmasq.ip(), dnsmasq.port()));
  const MxAnswer answer = mx_of(resolver, io, "big.test.example");
  ASSERT_EQ(answer.status, DnsStatus::ok) << answer.error;
  ASSERT_EQ(answer.hosts.size(), 60u);
  EXPECT_EQ(answer.hosts.front().host, "mail-exchanger-number-59.test.example");
  EXPECT_EQ(answer.hosts.back().preference, 100);
  EXPECT_EQ(dnsmasq.wait_for_query_count("MX", "big.test.example", 2), 2);  // UDP, then TCP
  EXPECT_TRUE(
      std::is_sorted(answer.hosts.begin(), answer.hosts.end(),
                     [](const MxHost& a, const MxHost& b) { return a.preference < b.preference; }));
}

TEST_F(DnsResolverTest, NxdomainIsNoSuchDomain) {
  const MxAnswer answer = mx_of(*resolver_, io_, "missing.test.example");
  EXPECT_EQ(answer.status, DnsStatus::no_such_domain) << answer.error;
  EXPECT_TRUE(answer.hosts.empty());
  const AddressAnswer addresses = addresses_of(*resolver_, io_, "missing.test.example");
  EXPECT_EQ(addresses.status, DnsStatus::no_such_domain);
}

TEST_F(DnsResolverTest, CnameFollowedForMx) {
  const MxAnswer answer = mx_of(*resolver_, io_, "alias.test.example");
  ASSERT_EQ(answer.status, DnsStatus::ok) << answer.error;
  EXPECT_EQ(answer.hosts.size(), 3u);
  EXPECT_EQ(answer.hosts.front().host, "a.mail.test.example");
}

TEST_F(DnsResolverTest, RefusedIsInconclusive) {
  // Outside test.example and with no upstream, dnsmasq answers REFUSED.
  const MxAnswer answer = mx_of(*resolver_, io_, "elsewhere.example");
  EXPECT_EQ(answer.status, DnsStatus::inconclusive);
  EXPECT_NE(answer.error.find("REFUSED"), std::string::npos) << answer.error;
  EXPECT_EQ(resolver_->stats().failures, 1u);
}

// ----------------------------------------------------------- addresses ---

TEST_F(DnsResolverTest, Ipv4AndIpv6Addresses) {
  const AddressAnswer answer = addresses_of(*resolver_, io_, "dual.test.example");
  ASSERT_EQ(answer.status, DnsStatus::ok) << answer.error;
  ASSERT_EQ(answer.addresses.size(), 2u);
  EXPECT_TRUE(answer.addresses[0].is_v4());  // A first, then AAAA
  EXPECT_TRUE(answer.addresses[1].is_v6());
  EXPECT_EQ(address_texts(answer), (std::set<std::string>{"192.0.2.20", "2001:db8::20"}));
}

TEST_F(DnsResolverTest, AddressesOkWithOnlyOneFamily) {
  const AddressAnswer v4 = addresses_of(*resolver_, io_, "aonly.test.example");
  ASSERT_EQ(v4.status, DnsStatus::ok) << v4.error;
  EXPECT_EQ(address_texts(v4), std::set<std::string>{"192.0.2.10"});
  const AddressAnswer v6 = addresses_of(*resolver_, io_, "v6only.test.example");
  ASSERT_EQ(v6.status, DnsStatus::ok) << v6.error;
  EXPECT_EQ(address_texts(v6), std::set<std::string>{"2001:db8::6"});
}

TEST_F(DnsResolverTest, AddressesNoData) {
  const AddressAnswer answer = addresses_of(*resolver_, io_, "txtonly.test.example");
  EXPECT_EQ(answer.status, DnsStatus::no_data);
  EXPECT_TRUE(answer.addresses.empty());
}

TEST_F(DnsResolverTest, CnameFollowedForAddresses) {
  const AddressAnswer answer = addresses_of(*resolver_, io_, "www.test.example");
  ASSERT_EQ(answer.status, DnsStatus::ok) << answer.error;
  EXPECT_EQ(address_texts(answer), (std::set<std::string>{"192.0.2.20", "2001:db8::20"}));
}

TEST_F(DnsResolverTest, ResolveAAsksOnlyForIpv4) {
  const AddressAnswer answer = a_of(*resolver_, io_, "dual.test.example");
  ASSERT_EQ(answer.status, DnsStatus::ok) << answer.error;
  EXPECT_EQ(address_texts(answer), std::set<std::string>{"192.0.2.20"});
  EXPECT_EQ(dnsmasq_.wait_for_query_count("A", "dual.test.example", 1), 1);
  EXPECT_EQ(dnsmasq_.query_count("AAAA", "dual.test.example"), 0);

  const AddressAnswer v6_only = a_of(*resolver_, io_, "v6only.test.example");
  EXPECT_EQ(v6_only.status, DnsStatus::no_data);
  const AddressAnswer missing = a_of(*resolver_, io_, "listed.dbl.test.example");
  EXPECT_EQ(missing.status, DnsStatus::no_such_domain);
}

// --------------------------------------------------------------- cache ---

TEST_F(DnsResolverTest, SecondMxLookupComesFromCache) {
  const MxAnswer first = mx_of(*resolver_, io_, "mx.test.example");
  ASSERT_EQ(first.status, DnsStatus::ok) << first.error;
  EXPECT_FALSE(first.from_cache);
  ASSERT_EQ(dnsmasq_.wait_for_query_count("MX", "mx.test.example", 1), 1);
  const auto queries_after_first = resolver_->stats().queries;

  const MxAnswer second = mx_of(*resolver_, io_, "MX.test.example.");
  EXPECT_TRUE(second.from_cache);
  EXPECT_EQ(host_names(second), host_names(first));
  EXPECT_EQ(resolver_->stats().queries, queries_after_first);
  EXPECT_EQ(resolver_->stats().cache_hits, 1u);
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(dnsmasq_.query_count("MX", "mx.test.example"), 1);
}

TEST_F(DnsResolverTest, AddressesAndImplicitMxCached) {
  EXPECT_FALSE(addresses_of(*resolver_, io_, "dual.test.example").from_cache);
  const AddressAnswer again = addresses_of(*resolver_, io_, "dual.test.example");
  EXPECT_TRUE(again.from_cache);
  EXPECT_EQ(again.addresses.size(), 2u);

  EXPECT_FALSE(mx_of(*resolver_, io_, "aonly.test.example").from_cache);
  const MxAnswer implicit = mx_of(*resolver_, io_, "aonly.test.example");
  EXPECT_TRUE(implicit.from_cache);
  EXPECT_TRUE(implicit.implicit_mx);
  EXPECT_EQ(dnsmasq_.wait_for_query_count("MX", "aonly.test.example", 1), 1);
}

TEST_F(DnsResolverTest, NegativeAnswersCached) {
  EXPECT_FALSE(mx_of(*resolver_, io_, "missing.test.example").from_cache);
  const MxAnswer nxdomain = mx_of(*resolver_, io_, "missing.test.example");
  EXPECT_EQ(nxdomain.status, DnsStatus::no_such_domain);
  EXPECT_TRUE(nxdomain.from_cache);

  EXPECT_FALSE(mx_of(*resolver_, io_, "txtonly.test.example").from_cache);
  const MxAnswer no_data = mx_of(*resolver_, io_, "txtonly.test.example");
  EXPECT_EQ(no_data.status, DnsStatus::no_data);
  EXPECT_TRUE(no_data.from_cache);

  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(dnsmasq_.query_count("MX", "missing.test.example"), 1);
  EXPECT_EQ(dnsmasq_.query_count("MX", "txtonly.test.example"), 1);
}

TEST_F(DnsResolverTest, NegativeTtlZeroDisablesNegativeCache) {
  DnsOptions options = options_for(dnsmasq_.ip(), dnsmasq_.port());
  options.negative_ttl = 0s;
  resolver_->reconfigure(options);
  mx_of(*resolver_, io_, "missing.test.example");
  EXPECT_FALSE(mx_of(*resolver_, io_, "missing.test.example").from_cache);
  EXPECT_EQ(dnsmasq_.wait_for_query_count("MX", "missing.test.example", 2), 2);
}

TEST_F(DnsResolverTest, AnswerExpiresWithItsTtl) {
  // short.test.example is served with TTL 1 s.
  EXPECT_FALSE(addresses_of(*resolver_, io_, "short.test.example").from_cache);
  std::this_thread::sleep_for(1200ms);
  const AddressAnswer later = addresses_of(*resolver_, io_, "short.test.example");
  EXPECT_EQ(later.status, DnsStatus::ok);
  EXPECT_FALSE(later.from_cache);
}

TEST(DnsResolverMxTtl, MxTtlReadFromTheAnswer) {
  // default_ttl is an hour, the MX's own TTL is 1 s: the answer's TTL rules.
  DnsmasqServer dnsmasq({"--local=/test.example/", "--local-ttl=1",
                         "--mx-host=mx.test.example,a.mail.test.example,10"});
  std::string error;
  ASSERT_TRUE(dnsmasq.start(&error)) << error;
  asio::io_context io;
  DnsResolver resolver(io, options_for(dnsmasq.ip(), dnsmasq.port()));
  EXPECT_FALSE(mx_of(resolver, io, "mx.test.example").from_cache);
  EXPECT_TRUE(mx_of(resolver, io, "mx.test.example").from_cache);
  std::this_thread::sleep_for(1200ms);
  EXPECT_FALSE(mx_of(resolver, io, "mx.test.example").from_cache);
}

TEST_F(DnsResolverTest, LeastRecentlyUsedEvicted) {
  DnsOptions options = options_for(dnsmasq_.ip(), dnsmasq_.port());
  options.cache_capacity = 2;
  resolver_->reconfigure(options);
  mx_of(*resolver_, io_, "mx.test.example");
  mx_of(*resolver_, io_, "dual.test.example");
  EXPECT_TRUE(mx_of(*resolver_, io_, "mx.test.example").from_cache);  // now most recent
  mx_of(*resolver_, io_, "upper.test.example");                       // evicts dual
  EXPECT_TRUE(mx_of(*resolver_, io_, "mx.test.example").from_cache);
  EXPECT_FALSE(mx_of(*resolver_, io_, "dual.test.example").from_cache);
}

TEST(TtlLruCache, ExpiryAndEviction) {
  using Clock = std::chrono::steady_clock;
  TtlLruCache<int> cache(2);
  const auto now = Clock::now();
  cache.put("a", 1, 10s, now);
  cache.put("b", 2, 1s, now);
  EXPECT_EQ(cache.get("a", now), 1);
  EXPECT_FALSE(cache.get("b", now + 2s).has_value());  // expired
  cache.put("c", 3, 10s, now);
  cache.put("d", 4, 10s, now);  // evicts a, the least recently used
  EXPECT_FALSE(cache.get("a", now).has_value());
  EXPECT_EQ(cache.get("c", now), 3);
  EXPECT_EQ(cache.get("d", now), 4);
  cache.put("zero", 5, 0s, now);
  EXPECT_FALSE(cache.get("zero", now).has_value());
  EXPECT_EQ(cache.size(), 2u);
}

TEST(TtlLruCache, SubSecondTtl) {
  using Clock = std::chrono::steady_clock;
  TtlLruCache<int> cache(4);
  const auto now = Clock::now();
  cache.put("short", 1, 200ms, now);
  EXPECT_EQ(cache.get("short", now + 150ms), 1);
  EXPECT_FALSE(cache.get("short", now + 250ms).has_value());
  cache.put("negative", 2, -1s, now);
  EXPECT_FALSE(cache.get("negative", now).has_value());
}

// ------------------------------------------------------------- seeding ---

MxAnswer seeded_mx(std::vector<MxHost> hosts) {
  MxAnswer answer;
  answer.status = DnsStatus::ok;
  answer.hosts = std::move(hosts);
  return answer;
}

TEST_F(DnsResolverTest, SeededMxAnswersWithoutAQuery) {
  // dnsmasq calls this name NXDOMAIN: only the seed can make it a mail domain.
  resolver_->seed_mx("Restored.Test.Example.",
                     seeded_mx({{20, "B.Mail.Test.Example."}, {10, "a.mail.test.example"}}), 1h);
  const MxAnswer answer = mx_of(*resolver_, io_, "restored.test.example");
  ASSERT_EQ(answer.status, DnsStatus::ok) << answer.error;
  EXPECT_TRUE(answer.from_cache);
  EXPECT_EQ(host_names(answer),
            (std::vector<std::string>{"a.mail.test.example", "b.mail.test.example"}));
  EXPECT_EQ(resolver_->stats().queries, 0u);
  EXPECT_EQ(resolver_->stats().cache_hits, 1u);
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(dnsmasq_.query_count("MX", "restored.test.example"), 0);
}

TEST_F(DnsResolverTest, SeededNegativeAnswersWithoutAQuery) {
  // mx.test.example has MX records in DNS; the seeds say otherwise and win.
  MxAnswer no_data;
  no_data.status = DnsStatus::no_data;
  resolver_->seed_mx("mx.test.example", no_data, 1h);
  MxAnswer nxdomain;
  nxdomain.status = DnsStatus::no_such_domain;
  resolver_->seed_mx("dual.test.example", nxdomain, 1h);

  const MxAnswer first = mx_of(*resolver_, io_, "mx.test.example");
  EXPECT_EQ(first.status, DnsStatus::no_data);
  EXPECT_TRUE(first.from_cache);
  EXPECT_FALSE(first.accepts_mail());
  const MxAnswer second = mx_of(*resolver_, io_, "dual.test.example");
  EXPECT_EQ(second.status, DnsStatus::no_such_domain);
  EXPECT_TRUE(second.from_cache);
  EXPECT_EQ(resolver_->stats().queries, 0u);
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(dnsmasq_.query_count("MX", "mx.test.example"), 0);
  EXPECT_EQ(dnsmasq_.query_count("MX", "dual.test.example"), 0);
}

TEST_F(DnsResolverTest, SeededNegativeAnswerObeysNegativeTtl) {
  DnsOptions options = options_for(dnsmasq_.ip(), dnsmasq_.port());
  options.negative_ttl = 0s;
  resolver_->reconfigure(options);
  MxAnswer no_data;
  no_data.status = DnsStatus::no_data;
  resolver_->seed_mx("mx.test.example", no_data, 1h);
  const MxAnswer answer = mx_of(*resolver_, io_, "mx.test.example");
  EXPECT_FALSE(answer.from_cache);
  EXPECT_EQ(answer.status, DnsStatus::ok);
}

TEST_F(DnsResolverTest, UselessOrExpiredSeedsAreIgnored) {
  resolver_->seed_mx("mx.test.example", seeded_mx({{10, "stale.test.example"}}), 0ms);
  resolver_->seed_mx("dual.test.example", seeded_mx({{10, "stale.test.example"}}), -5s);
  resolver_->seed_mx("upper.test.example", seeded_mx({}), 1h);  // ok without hosts
  MxAnswer inconclusive;
  inconclusive.error = "SERVFAIL";
  resolver_->seed_mx("aonly.test.example", inconclusive, 1h);
  for (const char* domain :
       {"mx.test.example", "dual.test.example", "upper.test.example", "aonly.test.example"}) {
    const MxAnswer answer = mx_of(*resolver_, io_, domain);
    EXPECT_FALSE(answer.from_cache) << domain;
    EXPECT_EQ(answer.status, DnsStatus::ok) << domain << ": " << answer.error;
    const std::vector<std::string> names = host_names(answer);
    EXPECT_EQ(std::count(names.begin(), names.end(), "stale.test.example"), 0) << domain;
  }
  EXPECT_EQ(dnsmasq_.wait_for_query_count("MX", "aonly.test.example", 1), 1);

  // A seed that was valid expires with its own time to live.
  resolver_->seed_mx("dual.test.example", seeded_mx({{10, "stale.test.example"}}), 300ms);
  EXPECT_EQ(host_names(mx_of(*resolver_, io_, "dual.test.example")),
            std::vector<std::string>{"stale.test.example"});
  std::this_thread::sleep_for(400ms);
  const MxAnswer later = mx_of(*resolver_, io_, "dual.test.example");
  EXPECT_FALSE(later.from_cache);
  EXPECT_EQ(host_names(later), std::vector<std::string>{"a.mail.test.example"});
}

TEST_F(DnsResolverTest, ReconfigureDropsSeededAnswers) {
  resolver_->seed_mx("restored.test.example", seeded_mx({{10, "a.mail.test.example"}}), 1h);
  EXPECT_TRUE(mx_of(*resolver_, io_, "restored.test.example").from_cache);
  resolver_->reconfigure(options_for(dnsmasq_.ip(), dnsmasq_.port()));
  EXPECT_EQ(mx_of(*resolver_, io_, "restored.test.example").status, DnsStatus::no_such_domain);
}

// ------------------------------------------------------------ failures ---

class DnsResolverStubTest : public ::testing::Test {
 protected:
  std::unique_ptr<DnsResolver> resolver_for(const StubDnsServer& stub) {
    DnsOptions options = options_for(stub.ip(), stub.port());
    options.timeout = 200ms;
    options.tries = 1;
    return std::make_unique<DnsResolver>(io_, options);
  }
  asio::io_context io_;
};

TEST_F(DnsResolverStubTest, ServfailIsInconclusiveAndNotCached) {
  StubDnsServer stub(StubDnsServer::Behaviour::reply_rcode, /*SERVFAIL*/ 2);
  std::string error;
  ASSERT_TRUE(stub.start(&error)) << error;
  auto resolver = resolver_for(stub);

  const MxAnswer first = mx_of(*resolver, io_, "broken.example");
  EXPECT_EQ(first.status, DnsStatus::inconclusive);
  EXPECT_NE(first.error.find("SERVFAIL"), std::string::npos) << first.error;
  const MxAnswer second = mx_of(*resolver, io_, "broken.example");
  EXPECT_EQ(second.status, DnsStatus::inconclusive);
  EXPECT_FALSE(second.from_cache);
  EXPECT_EQ(stub.queries_received(), 2);
  EXPECT_EQ(resolver->stats().failures, 2u);

  const AddressAnswer addresses = addresses_of(*resolver, io_, "broken.example");
  EXPECT_EQ(addresses.status, DnsStatus::inconclusive);
  EXPECT_FALSE(addresses.error.empty());
}

TEST_F(DnsResolverStubTest, TimeoutIsInconclusiveAndNotCached) {
  StubDnsServer stub(StubDnsServer::Behaviour::stay_silent);
  std::string error;
  ASSERT_TRUE(stub.start(&error)) << error;
  auto resolver = resolver_for(stub);

  const auto started = std::chrono::steady_clock::now();
  const MxAnswer answer = mx_of(*resolver, io_, "slow.example");
  const auto elapsed = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(answer.status, DnsStatus::inconclusive);
  EXPECT_NE(answer.error.find("timeout"), std::string::npos) << answer.error;
  EXPECT_GE(elapsed, 150ms);
  EXPECT_LT(elapsed, 3s);  // the timer drives the timeout, not luck
  EXPECT_EQ(resolver->stats().timeouts, 1u);

  EXPECT_FALSE(mx_of(*resolver, io_, "slow.example").from_cache);
  EXPECT_EQ(stub.queries_received(), 2);
}

TEST_F(DnsResolverStubTest, RetriesBeforeGivingUp) {
  StubDnsServer stub(StubDnsServer::Behaviour::stay_silent);
  std::string error;
  ASSERT_TRUE(stub.start(&error)) << error;
  DnsOptions options = options_for(stub.ip(), stub.port());
  options.timeout = 100ms;
  options.tries = 3;
  DnsResolver resolver(io_, options);
  EXPECT_EQ(mx_of(resolver, io_, "slow.example").status, DnsStatus::inconclusive);
  EXPECT_EQ(stub.queries_received(), 3);
}

TEST_F(DnsResolverStubTest, MalformedAnswerIsInconclusive) {
  StubDnsServer stub(StubDnsServer::Behaviour::truncated_answer);
  std::string error;
  ASSERT_TRUE(stub.start(&error)) << error;
  auto resolver = resolver_for(stub);
  const MxAnswer mx = mx_of(*resolver, io_, "garbled.example");
  EXPECT_EQ(mx.status, DnsStatus::inconclusive);
  EXPECT_FALSE(mx.error.empty());
  const AddressAnswer addresses = addresses_of(*resolver, io_, "garbled.example");
  EXPECT_EQ(addresses.status, DnsStatus::inconclusive);
  EXPECT_FALSE(mx_of(*resolver, io_, "garbled.example").from_cache);
}

TEST_F(DnsResolverTest, DeadUpstreamTimesOut) {
  // dnsmasq forwarding to a closed loopback port never answers.
  DnsmasqServer forwarder({"--server=/dead.example/127.0.0.1#" +
                           std::to_string(test_support::pick_free_port("127.0.0.1"))});
  std::string error;
  ASSERT_TRUE(forwarder.start(&error)) << error;
  DnsOptions options = options_for(forwarder.ip(), forwarder.port());
  options.timeout = 200ms;
  options.tries = 1;
  resolver_->reconfigure(options);
  const MxAnswer answer = mx_of(*resolver_, io_, "x.dead.example");
  EXPECT_EQ(answer.status, DnsStatus::inconclusive);
  EXPECT_FALSE(answer.error.empty());
}

// ---------------------------------------------------------- concurrency ---

TEST_F(DnsResolverTest, ManyConcurrentQueriesAllComplete) {
  constexpr int kQueries = 200;
  int mx_done = 0, address_done = 0, ok = 0, nxdomain = 0;
  std::set<std::string> answered;
  for (int i = 0; i < kQueries; ++i) {
    // Distinct names (no cache hits); every 4th one exists.
    const std::string name =
        i % 4 == 0 ? "mx.test.example" : "n" + std::to_string(i) + ".test.example";
    if (i % 2 == 0) {
      resolver_->resolve_mx(name, [&, i](MxAnswer answer) {
        ++mx_done;
        answered.insert("mx" + std::to_string(i));
        if (answer.status == DnsStatus::ok) ++ok;
        if (answer.status == DnsStatus::no_such_domain) ++nxdomain;
      });
    } else {
      resolver_->resolve_addresses(name, [&, i](AddressAnswer answer) {
        ++address_done;
        answered.insert("addr" + std::to_string(i));
        if (answer.status == DnsStatus::no_such_domain) ++nxdomain;
      });
    }
  }
  io_.run_for(20s);
  EXPECT_EQ(mx_done + address_done, kQueries);
  EXPECT_EQ(answered.size(), static_cast<std::size_t>(kQueries));  // each exactly once
  EXPECT_EQ(ok, kQueries / 4);  // the mx.test.example lookups (first query or cache)
  EXPECT_EQ(nxdomain, kQueries - kQueries / 4);
}

TEST_F(DnsResolverTest, CallbacksRunOnTheIoThread) {
  auto guard = asio::make_work_guard(io_);
  std::thread io_thread([this] { io_.run(); });
  const auto io_thread_id = io_thread.get_id();
  std::promise<std::thread::id> ran_on;
  resolver_->resolve_mx("mx.test.example", [&](MxAnswer answer) {
    EXPECT_EQ(answer.status, DnsStatus::ok);
    ran_on.set_value(std::this_thread::get_id());
  });
  auto future = ran_on.get_future();
  ASSERT_EQ(future.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(future.get(), io_thread_id);
  // Destroy the resolver on the io thread, as required while the io_context runs.
  std::promise<void> destroyed;
  asio::post(io_, [&] {
    resolver_.reset();
    destroyed.set_value();
  });
  destroyed.get_future().wait();
  guard.reset();
  io_thread.join();
}

TEST_F(DnsResolverTest, ThrowingCallbackDoesNotEscape) {
  resolver_->resolve_mx("mx.test.example", [](MxAnswer) { throw std::runtime_error("boom"); });
  EXPECT_NO_THROW(io_.run_for(10s));
}

// --------------------------------------------------------- fresh MX ---

TEST_F(DnsResolverTest, FreshMxLookupAsksEvenWhenTheAnswerIsCached) {
  ASSERT_EQ(mx_of(*resolver_, io_, "mx.test.example").status, DnsStatus::ok);
  ASSERT_TRUE(mx_of(*resolver_, io_, "mx.test.example").from_cache);
  const MxAnswer fresh = resolve_now<MxAnswer>(
      io_, [&](auto done) { resolver_->resolve_mx_fresh("MX.Test.Example.", std::move(done)); });
  EXPECT_EQ(fresh.status, DnsStatus::ok) << fresh.error;
  EXPECT_FALSE(fresh.from_cache);
  EXPECT_EQ(host_names(fresh),
            (std::vector<std::string>{"a.mail.test.example", "b.mail.test.example",
                                      "c.mail.test.example"}));
  EXPECT_EQ(dnsmasq_.wait_for_query_count("MX", "mx.test.example", 2), 2);
  EXPECT_EQ(resolver_->stats().queries, 2u);
  // Its answer is cached as usual.
  EXPECT_TRUE(mx_of(*resolver_, io_, "mx.test.example").from_cache);
  EXPECT_EQ(resolver_->stats().queries, 2u);
}

TEST_F(DnsResolverTest, FreshMxLookupsNeitherJoinNorAreJoined) {
  LookupBatch<MxAnswer> batch(4);
  resolver_->resolve_mx("nxdomain.test.example", batch.callback(0));
  resolver_->resolve_mx_fresh("nxdomain.test.example", batch.callback(1));
  resolver_->resolve_mx_fresh("nxdomain.test.example", batch.callback(2));
  resolver_->resolve_mx("nxdomain.test.example", batch.callback(3));  // joins lookup 0 only
  run_until(io_, [&] { return batch.all_finished(); });
  for (int i = 0; i < batch.size(); ++i) {
    EXPECT_EQ(batch.calls(i), 1) << i;
    EXPECT_EQ(batch.answer(i).status, DnsStatus::no_such_domain) << i;
  }
  EXPECT_EQ(dnsmasq_.wait_for_query_count("MX", "nxdomain.test.example", 3), 3);
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(dnsmasq_.query_count("MX", "nxdomain.test.example"), 3);
  const DnsResolver::Stats stats = resolver_->stats();
  EXPECT_EQ(stats.queries, 3u);
  EXPECT_EQ(stats.coalesced, 1u);
}

TEST_F(DnsResolverStubTest, FreshMxLookupReportsFailures) {
  StubDnsServer stub(StubDnsServer::Behaviour::reply_rcode, /*SERVFAIL*/ 2);
  std::string error;
  ASSERT_TRUE(stub.start(&error)) << error;
  auto resolver = resolver_for(stub);
  const MxAnswer answer = resolve_now<MxAnswer>(
      io_, [&](auto done) { resolver->resolve_mx_fresh("broken.example", std::move(done)); });
  EXPECT_EQ(answer.status, DnsStatus::inconclusive);
  EXPECT_FALSE(answer.error.empty());
}

// ---------------------------------------------------------- coalescing ---

TEST_F(DnsResolverTest, ConcurrentMxLookupsShareOneQuery) {
  constexpr int kLookups = 200;
  LookupBatch<MxAnswer> batch(kLookups);
  for (int i = 0; i < kLookups; ++i) {  // all before the io_context runs: none answered yet
    resolver_->resolve_mx(i % 3 == 0 ? "MX.Test.Example." : "mx.test.example", batch.callback(i));
  }
  run_until(io_, [&] { return batch.all_finished(); });
  ASSERT_EQ(batch.finished(), kLookups);
  const std::vector<std::string> expected = {"a.mail.test.example", "b.mail.test.example",
                                             "c.mail.test.example"};
  for (int i = 0; i < kLookups; ++i) {
    EXPECT_EQ(batch.calls(i), 1) << i;
    const MxAnswer& answer = batch.answer(i);
    EXPECT_EQ(answer.status, DnsStatus::ok) << i << ": " << answer.error;
    EXPECT_EQ(host_names(answer), expected) << i;
    ASSERT_EQ(answer.hosts.size(), 3u) << i;
    EXPECT_EQ(answer.hosts[2].preference, 30) << i;
    EXPECT_FALSE(answer.from_cache) << i;
    EXPECT_FALSE(answer.null_mx || answer.implicit_mx) << i;
  }
  // dnsmasq saw one MX query: waiting for a second finds none.
  EXPECT_EQ(dnsmasq_.wait_for_query_count("MX", "mx.test.example", 2, 500ms), 1);
  DnsResolver::Stats stats = resolver_->stats();
  EXPECT_EQ(stats.queries, 1u);
  EXPECT_EQ(stats.coalesced, static_cast<std::uint64_t>(kLookups - 1));
  EXPECT_EQ(stats.cache_hits, 0u);

  // The answer was cached once: the next lookup sends nothing.
  const MxAnswer later = mx_of(*resolver_, io_, "mx.test.example");
  EXPECT_TRUE(later.from_cache);
  EXPECT_EQ(host_names(later), expected);
  stats = resolver_->stats();
  EXPECT_EQ(stats.queries, 1u);
  EXPECT_EQ(stats.cache_hits, 1u);
  EXPECT_EQ(stats.coalesced, static_cast<std::uint64_t>(kLookups - 1));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(dnsmasq_.query_count("MX", "mx.test.example"), 1);
}

TEST_F(DnsResolverTest, ConcurrentImplicitMxLookupsShareTheAddressFallback) {
  constexpr int kLookups = 100;
  LookupBatch<MxAnswer> batch(kLookups);
  for (int i = 0; i < kLookups; ++i) resolver_->resolve_mx("aonly.test.example", batch.callback(i));
  run_until(io_, [&] { return batch.all_finished(); });
  ASSERT_EQ(batch.finished(), kLookups);
  for (int i = 0; i < kLookups; ++i) {
    EXPECT_EQ(batch.calls(i), 1) << i;
    EXPECT_EQ(batch.answer(i).status, DnsStatus::ok) << i << ": " << batch.answer(i).error;
    EXPECT_TRUE(batch.answer(i).implicit_mx) << i;
    EXPECT_EQ(host_names(batch.answer(i)), std::vector<std::string>{"aonly.test.example"}) << i;
  }
  EXPECT_EQ(dnsmasq_.wait_for_query_count("MX", "aonly.test.example", 2, 500ms), 1);
  EXPECT_EQ(dnsmasq_.query_count("A", "aonly.test.example"), 1);
  EXPECT_EQ(dnsmasq_.query_count("AAAA", "aonly.test.example"), 1);
  EXPECT_EQ(resolver_->stats().queries, 3u);  // MX, then A and AAAA once
  EXPECT_EQ(resolver_->stats().coalesced, static_cast<std::uint64_t>(kLookups - 1));
  EXPECT_TRUE(mx_of(*resolver_, io_, "aonly.test.example").from_cache);
}

TEST_F(DnsResolverTest, ConcurrentAddressLookupsShareOneQueryPair) {
  constexpr int kLookups = 200;
  LookupBatch<AddressAnswer> batch(kLookups);
  for (int i = 0; i < kLookups; ++i) {
    resolver_->resolve_addresses("dual.test.example", batch.callback(i));
  }
  run_until(io_, [&] { return batch.all_finished(); });
  ASSERT_EQ(batch.finished(), kLookups);
  const std::vector<std::string> expected = {"192.0.2.20", "2001:db8::20"};  // A, then AAAA
  for (int i = 0; i < kLookups; ++i) {
    EXPECT_EQ(batch.calls(i), 1) << i;
    EXPECT_EQ(batch.answer(i).status, DnsStatus::ok) << i << ": " << batch.answer(i).error;
    EXPECT_EQ(address_list(batch.answer(i)), expected) << i;
    EXPECT_FALSE(batch.answer(i).from_cache) << i;
  }
  EXPECT_EQ(dnsmasq_.wait_for_query_count("A", "dual.test.example", 2, 500ms), 1);
  EXPECT_EQ(dnsmasq_.query_count("AAAA", "dual.test.example"), 1);
  DnsResolver::Stats stats = resolver_->stats();
  EXPECT_EQ(stats.queries, 2u);
  EXPECT_EQ(stats.coalesced, static_cast<std::uint64_t>(kLookups - 1));
  EXPECT_EQ(stats.cache_hits, 0u);

  const AddressAnswer later = addresses_of(*resolver_, io_, "dual.test.example");
  EXPECT_TRUE(later.from_cache);
  EXPECT_EQ(address_list(later), expected);
  EXPECT_EQ(resolver_->stats().queries, 2u);
  EXPECT_EQ(resolver_->stats().cache_hits, 1u);
}

TEST_F(DnsResolverTest, ConcurrentBlocklistLookupsShareOneQuery) {
  // As many blocklist lookups as addresses at one domain: a listed name (it
  // has an A record) and an unlisted one (NXDOMAIN), interleaved.
  constexpr int kLookups = 200;
  LookupBatch<AddressAnswer> listed(kLookups);
  LookupBatch<AddressAnswer> unlisted(kLookups);
  for (int i = 0; i < kLookups; ++i) {
    resolver_->resolve_a("aonly.test.example", listed.callback(i));
    resolver_->resolve_a("clean.dbl.test.example", unlisted.callback(i));
  }
  run_until(io_, [&] { return listed.all_finished() && unlisted.all_finished(); });
  ASSERT_EQ(listed.finished(), kLookups);
  ASSERT_EQ(unlisted.finished(), kLookups);
  for (int i = 0; i < kLookups; ++i) {
    EXPECT_EQ(listed.calls(i), 1) << i;
    EXPECT_EQ(unlisted.calls(i), 1) << i;
    EXPECT_EQ(listed.answer(i).status, DnsStatus::ok) << i << ": " << listed.answer(i).error;
    EXPECT_EQ(address_list(listed.answer(i)), std::vector<std::string>{"192.0.2.10"}) << i;
    EXPECT_EQ(unlisted.answer(i).status, DnsStatus::no_such_domain) << i;
    EXPECT_TRUE(unlisted.answer(i).addresses.empty()) << i;
  }
  EXPECT_EQ(dnsmasq_.wait_for_query_count("A", "aonly.test.example", 2, 500ms), 1);
  EXPECT_EQ(dnsmasq_.query_count("A", "clean.dbl.test.example"), 1);
  EXPECT_EQ(dnsmasq_.query_count("AAAA", "aonly.test.example"), 0);
  EXPECT_EQ(resolver_->stats().queries, 2u);
  EXPECT_EQ(resolver_->stats().coalesced, static_cast<std::uint64_t>(2 * (kLookups - 1)));
  // Both answers were cached, the negative one too.
  EXPECT_TRUE(a_of(*resolver_, io_, "aonly.test.example").from_cache);
  const AddressAnswer unlisted_later = a_of(*resolver_, io_, "clean.dbl.test.example");
  EXPECT_TRUE(unlisted_later.from_cache);
  EXPECT_EQ(unlisted_later.status, DnsStatus::no_such_domain);
  EXPECT_EQ(resolver_->stats().queries, 2u);
}

TEST_F(DnsResolverTest, LookupsOfOtherKindsForTheSameNameAreNotShared) {
  // resolve_a, resolve_addresses and resolve_mx of one name ask different
  // questions: each kind has one query of its own, and its own answer.
  constexpr int kEach = 50;
  LookupBatch<AddressAnswer> a_only(kEach);
  LookupBatch<AddressAnswer> both(kEach);
  LookupBatch<MxAnswer> mx(kEach);
  for (int i = 0; i < kEach; ++i) {
    resolver_->resolve_a("dual.test.example", a_only.callback(i));
    resolver_->resolve_addresses("dual.test.example", both.callback(i));
    resolver_->resolve_mx("dual.test.example", mx.callback(i));
  }
  run_until(io_, [&] { return a_only.all_finished() && both.all_finished() && mx.all_finished(); });
  for (int i = 0; i < kEach; ++i) {
    EXPECT_EQ(a_only.calls(i) + both.calls(i) + mx.calls(i), 3) << i;
    EXPECT_EQ(address_list(a_only.answer(i)), std::vector<std::string>{"192.0.2.20"}) << i;
    EXPECT_EQ(address_list(both.answer(i)),
              (std::vector<std::string>{"192.0.2.20", "2001:db8::20"}))
        << i;
    EXPECT_EQ(host_names(mx.answer(i)), std::vector<std::string>{"a.mail.test.example"}) << i;
  }
  EXPECT_EQ(dnsmasq_.wait_for_query_count("A", "dual.test.example", 3, 500ms), 2);
  EXPECT_EQ(dnsmasq_.query_count("AAAA", "dual.test.example"), 1);
  EXPECT_EQ(dnsmasq_.query_count("MX", "dual.test.example"), 1);
  EXPECT_EQ(resolver_->stats().queries, 4u);
  EXPECT_EQ(resolver_->stats().coalesced, static_cast<std::uint64_t>(3 * (kEach - 1)));
}

TEST_F(DnsResolverStubTest, CoalescedLookupsShareAFailureAndTheNextOneAsksAgain) {
  StubDnsServer stub(StubDnsServer::Behaviour::reply_rcode, /*SERVFAIL*/ 2);
  std::string error;
  ASSERT_TRUE(stub.start(&error)) << error;
  auto resolver = resolver_for(stub);

  constexpr int kLookups = 200;
  LookupBatch<MxAnswer> batch(kLookups);
  // The first waiter to hear of the failure asks again at once: the failed
  // query is over by then, so this is a query of its own.
  std::optional<MxAnswer> retried;
  resolver->resolve_mx("broken.example", [&](MxAnswer answer) {
    batch.callback(0)(std::move(answer));
    resolver->resolve_mx("broken.example", [&](MxAnswer again) { retried = std::move(again); });
  });
  for (int i = 1; i < kLookups; ++i) resolver->resolve_mx("broken.example", batch.callback(i));
  run_until(io_, [&] { return batch.all_finished() && retried.has_value(); });
  ASSERT_EQ(batch.finished(), kLookups);
  const std::string shared_error = batch.answer(0).error;
  EXPECT_NE(shared_error.find("SERVFAIL"), std::string::npos) << shared_error;
  for (int i = 0; i < kLookups; ++i) {
    EXPECT_EQ(batch.calls(i), 1) << i;
    EXPECT_EQ(batch.answer(i).status, DnsStatus::inconclusive) << i;
    EXPECT_EQ(batch.answer(i).error, shared_error) << i;
    EXPECT_FALSE(batch.answer(i).from_cache) << i;
  }
  ASSERT_TRUE(retried.has_value());
  EXPECT_EQ(retried->status, DnsStatus::inconclusive);
  EXPECT_FALSE(retried->from_cache);
  EXPECT_EQ(stub.queries_received(), 2);
  DnsResolver::Stats stats = resolver->stats();
  EXPECT_EQ(stats.queries, 2u);
  EXPECT_EQ(stats.failures, 2u);  // one per query, not one per waiter
  EXPECT_EQ(stats.coalesced, static_cast<std::uint64_t>(kLookups - 1));
  EXPECT_EQ(stats.cache_hits, 0u);

  // Failures are not cached: a later lookup queries again.
  const MxAnswer later = mx_of(*resolver, io_, "broken.example");
  EXPECT_EQ(later.status, DnsStatus::inconclusive);
  EXPECT_FALSE(later.from_cache);
  EXPECT_EQ(stub.queries_received(), 3);
  EXPECT_EQ(resolver->stats().failures, 3u);

  // The same for address lookups: A and AAAA once for the lot.
  LookupBatch<AddressAnswer> addresses(50);
  for (int i = 0; i < addresses.size(); ++i) {
    resolver->resolve_addresses("broken.example", addresses.callback(i));
  }
  run_until(io_, [&] { return addresses.all_finished(); });
  for (int i = 0; i < addresses.size(); ++i) {
    EXPECT_EQ(addresses.calls(i), 1) << i;
    EXPECT_EQ(addresses.answer(i).status, DnsStatus::inconclusive) << i;
    EXPECT_EQ(addresses.answer(i).error, addresses.answer(0).error) << i;
  }
  EXPECT_EQ(stub.queries_received(), 5);
  EXPECT_EQ(addresses_of(*resolver, io_, "broken.example").status, DnsStatus::inconclusive);
  EXPECT_EQ(stub.queries_received(), 7);
}

TEST_F(DnsResolverStubTest, CoalescedLookupsShareATimeout) {
  StubDnsServer stub(StubDnsServer::Behaviour::stay_silent);
  std::string error;
  ASSERT_TRUE(stub.start(&error)) << error;
  auto resolver = resolver_for(stub);  // 200 ms, one try

  constexpr int kLookups = 100;
  LookupBatch<MxAnswer> mx(kLookups);
  LookupBatch<AddressAnswer> blocklist(kLookups);
  for (int i = 0; i < kLookups; ++i) {
    resolver->resolve_mx("slow.example", mx.callback(i));
    resolver->resolve_a("slow.example.dbl.example", blocklist.callback(i));
  }
  run_until(io_, [&] { return mx.all_finished() && blocklist.all_finished(); });
  for (int i = 0; i < kLookups; ++i) {
    EXPECT_EQ(mx.calls(i), 1) << i;
    EXPECT_EQ(blocklist.calls(i), 1) << i;
    EXPECT_EQ(mx.answer(i).status, DnsStatus::inconclusive) << i;
    EXPECT_NE(mx.answer(i).error.find("timeout"), std::string::npos) << mx.answer(i).error;
    EXPECT_EQ(blocklist.answer(i).status, DnsStatus::inconclusive) << i;
    EXPECT_NE(blocklist.answer(i).error.find("timeout"), std::string::npos)
        << blocklist.answer(i).error;
  }
  EXPECT_EQ(stub.queries_received(), 2);
  EXPECT_EQ(resolver->stats().queries, 2u);
  EXPECT_EQ(resolver->stats().timeouts, 2u);
  EXPECT_EQ(resolver->stats().coalesced, static_cast<std::uint64_t>(2 * (kLookups - 1)));

  EXPECT_FALSE(mx_of(*resolver, io_, "slow.example").from_cache);
  EXPECT_EQ(stub.queries_received(), 3);
  EXPECT_EQ(resolver->stats().timeouts, 3u);
}

// ------------------------------------------------------- cancellation ---

class DnsResolverCancelTest : public DnsResolverStubTest {
 protected:
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(silent_.start(&error)) << error;
    DnsOptions options = options_for(silent_.ip(), silent_.port());
    options.timeout = 5000ms;
    resolver_ = std::make_unique<DnsResolver>(io_, options);
  }

  // Starts n MX and n address lookups that count their outcomes.
  void start_lookups(int n) {
    for (int i = 0; i < n; ++i) {
      resolver_->resolve_mx("pending" + std::to_string(i) + ".example", [this](MxAnswer answer) {
        ++calls_;
        if (answer.status == DnsStatus::inconclusive && answer.error == "cancelled") ++cancelled_;
      });
      resolver_->resolve_addresses(
          "pending" + std::to_string(i) + ".example", [this](AddressAnswer answer) {
            ++calls_;
            if (answer.status == DnsStatus::inconclusive && answer.error == "cancelled") {
              ++cancelled_;
            }
          });
    }
  }

  StubDnsServer silent_{StubDnsServer::Behaviour::stay_silent};
  std::unique_ptr<DnsResolver> resolver_;
  int calls_ = 0;
  int cancelled_ = 0;
};

TEST_F(DnsResolverCancelTest, DestroyingResolverCancelsPendingQueries) {
  start_lookups(20);
  io_.run_for(200ms);  // the queries are on the wire now
  EXPECT_EQ(calls_, 0);
  EXPECT_GE(silent_.queries_received(), 1);
  resolver_.reset();
  io_.restart();
  io_.run_for(2s);
  EXPECT_EQ(calls_, 40);
  EXPECT_EQ(cancelled_, 40);
}

TEST_F(DnsResolverCancelTest, DestroyingBeforeTheLoopRanCancelsToo) {
  start_lookups(5);
  resolver_.reset();
  io_.run_for(2s);
  EXPECT_EQ(calls_, 10);
  EXPECT_EQ(cancelled_, 10);
}

TEST_F(DnsResolverCancelTest, DestroyingFromInsideACallback) {
  start_lookups(5);
  // A lookup answered from nowhere: the empty name fails at once.
  resolver_->resolve_mx("", [this](MxAnswer answer) {
    EXPECT_EQ(answer.status, DnsStatus::inconclusive);
    resolver_.reset();
  });
  io_.run_for(2s);
  EXPECT_EQ(calls_, 10);
  EXPECT_EQ(cancelled_, 10);
}

TEST_F(DnsResolverCancelTest, ReconfigureCancelsPendingAndUsesNewServers) {
  start_lookups(3);
  io_.run_for(100ms);
  DnsmasqServer dnsmasq(zone_records());
  std::string error;
  ASSERT_TRUE(dnsmasq.start(&error)) << error;
  resolver_->reconfigure(options_for(dnsmasq.ip(), dnsmasq.port()));
  io_.restart();
  io_.run_for(1s);
  EXPECT_EQ(calls_, 6);
  EXPECT_EQ(cancelled_, 6);
  const MxAnswer answer = mx_of(*resolver_, io_, "mx.test.example");
  EXPECT_EQ(answer.status, DnsStatus::ok) << answer.error;
}

TEST_F(DnsResolverCancelTest, DestroyingResolverCancelsFreshLookups) {
  std::optional<MxAnswer> answer;
  resolver_->resolve_mx_fresh("slow.example", [&](MxAnswer mx) { answer = std::move(mx); });
  io_.restart();
  io_.run_for(50ms);
  resolver_.reset();
  io_.restart();
  io_.run_for(100ms);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->status, DnsStatus::inconclusive);
  EXPECT_EQ(answer->error, "cancelled");
}

TEST_F(DnsResolverCancelTest, DestroyingResolverCancelsCoalescedLookups) {
  constexpr int kLookups = 50;
  LookupBatch<MxAnswer> mx(kLookups);
  LookupBatch<AddressAnswer> addresses(kLookups);
  for (int i = 0; i < kLookups; ++i) {
    resolver_->resolve_mx("pending.example", mx.callback(i));
    resolver_->resolve_addresses("pending.example", addresses.callback(i));
  }
  io_.run_for(200ms);  // MX, A and AAAA are on the wire, once each
  EXPECT_EQ(mx.finished() + addresses.finished(), 0);
  EXPECT_EQ(silent_.queries_received(), 3);
  EXPECT_EQ(resolver_->stats().coalesced, static_cast<std::uint64_t>(2 * (kLookups - 1)));
  resolver_.reset();
  run_until(
      io_, [&] { return mx.all_finished() && addresses.all_finished(); }, 2s);
  for (int i = 0; i < kLookups; ++i) {
    EXPECT_EQ(mx.calls(i), 1) << i;
    EXPECT_EQ(addresses.calls(i), 1) << i;
    EXPECT_EQ(mx.answer(i).status, DnsStatus::inconclusive) << i;
    EXPECT_EQ(mx.answer(i).error, "cancelled") << i;
    EXPECT_EQ(addresses.answer(i).status, DnsStatus::inconclusive) << i;
    EXPECT_EQ(addresses.answer(i).error, "cancelled") << i;
  }
}

TEST_F(DnsResolverCancelTest, ReconfigureCancelsCoalescedLookupsAndLaterOnesAskAgain) {
  constexpr int kLookups = 30;
  LookupBatch<MxAnswer> before(kLookups);
  for (int i = 0; i < kLookups; ++i) resolver_->resolve_mx("mx.test.example", before.callback(i));
  io_.run_for(100ms);
  EXPECT_EQ(silent_.queries_received(), 1);
  DnsmasqServer dnsmasq(zone_records());
  std::string error;
  ASSERT_TRUE(dnsmasq.start(&error)) << error;
  resolver_->reconfigure(options_for(dnsmasq.ip(), dnsmasq.port()));
  // Issued right away: they must not join the query cancelled on the old server.
  LookupBatch<MxAnswer> after(kLookups);
  for (int i = 0; i < kLookups; ++i) resolver_->resolve_mx("mx.test.example", after.callback(i));
  run_until(io_, [&] { return before.all_finished() && after.all_finished(); });
  for (int i = 0; i < kLookups; ++i) {
    EXPECT_EQ(before.calls(i), 1) << i;
    EXPECT_EQ(before.answer(i).error, "cancelled") << i;
    EXPECT_EQ(after.calls(i), 1) << i;
    EXPECT_EQ(after.answer(i).status, DnsStatus::ok) << i << ": " << after.answer(i).error;
    EXPECT_EQ(after.answer(i).hosts.size(), 3u) << i;
  }
  EXPECT_EQ(dnsmasq.wait_for_query_count("MX", "mx.test.example", 2, 500ms), 1);
  EXPECT_EQ(silent_.queries_received(), 1);
}

TEST(DnsResolverIpv6, ServerOnIpv6Loopback) {
  DnsmasqServer dnsmasq(zone_records(), "::1");
  std::string error;
  ASSERT_TRUE(dnsmasq.start(&error)) << error;
  asio::io_context io;
  DnsResolver resolver(io,
                       DnsOptions{parse_dns_servers("[::1]:" + std::to_string(dnsmasq.port()))});
  const MxAnswer answer = mx_of(resolver, io, "mx.test.example");
  EXPECT_EQ(answer.status, DnsStatus::ok) << answer.error;
  EXPECT_EQ(answer.hosts.size(), 3u);
}

TEST(DnsResolverConstruction, RejectsNonIpServer) {
  asio::io_context io;
  DnsOptions options;
  options.servers = {DnsServerAddress{"not-an-ip", 53}};
  EXPECT_THROW(DnsResolver(io, options), std::invalid_argument);
}

}  // namespace
}  // namespace mailsentry
