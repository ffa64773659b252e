// Decoding what c-ares hands back, on hand-built DNS messages: TTLs, A and
// MX records, status codes, and the merge of the A and AAAA halves.
#include "net/dns_answer_decoding.hpp"

#include <ares.h>
#include <arpa/nameser.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace mailsentry {
namespace {

using Bytes = std::vector<unsigned char>;

void put16(Bytes& out, unsigned value) {
  out.push_back(static_cast<unsigned char>(value >> 8));
  out.push_back(static_cast<unsigned char>(value & 0xFF));
}

void put_name(Bytes& out, const std::vector<std::string>& labels) {
  for (const std::string& label : labels) {
    out.push_back(static_cast<unsigned char>(label.size()));
    out.insert(out.end(), label.begin(), label.end());
  }
  out.push_back(0);
}

struct Record {
  std::uint32_t ttl;
  Bytes data;
};

// A response to one question for x.example of `type`, answered by `records`
// (each owned by the question's name, through a compression pointer).
Bytes message(unsigned type, const std::vector<Record>& records) {
  Bytes out;
  put16(out, 0x1234);  // id
  put16(out, 0x8180);  // response, recursion desired and available, NOERROR
  put16(out, 1);
  put16(out, static_cast<unsigned>(records.size()));
  put16(out, 0);
  put16(out, 0);
  put_name(out, {"x", "example"});
  put16(out, type);
  put16(out, 1);  // IN
  for (const Record& record : records) {
    out.push_back(0xC0);
    out.push_back(12);  // the question's name
    put16(out, type);
    put16(out, 1);
    put16(out, record.ttl >> 16);
    put16(out, record.ttl & 0xFFFF);
    put16(out, static_cast<unsigned>(record.data.size()));
    out.insert(out.end(), record.data.begin(), record.data.end());
  }
  return out;
}

Bytes mx_data(unsigned preference, const std::vector<std::string>& exchange) {
  Bytes data;
  put16(data, preference);
  put_name(data, exchange);
  return data;
}

TEST(DnsAnswerDecoding, NormalisesNames) {
  EXPECT_EQ(normalise_name("  Mail.Example.COM. "), "mail.example.com");
  EXPECT_EQ(normalise_name("."), "");
  EXPECT_EQ(normalise_name(""), "");
}

TEST(DnsAnswerDecoding, SmallestTtl) {
  const Bytes two = message(ns_t_a, {{300, {192, 0, 2, 1}}, {120, {192, 0, 2, 2}}});
  EXPECT_EQ(smallest_answer_ttl(two.data(), static_cast<int>(two.size())),
            std::chrono::seconds(120));
  // RFC 2181 8: the top bit set reads as zero.
  const Bytes odd = message(ns_t_a, {{0x80000001u, {192, 0, 2, 1}}});
  EXPECT_EQ(smallest_answer_ttl(odd.data(), static_cast<int>(odd.size())), std::chrono::seconds(0));
  const Bytes none = message(ns_t_a, {});
  EXPECT_EQ(smallest_answer_ttl(none.data(), static_cast<int>(none.size())), std::nullopt);
  EXPECT_EQ(smallest_answer_ttl(two.data(), static_cast<int>(two.size()) - 3), std::nullopt);
  EXPECT_EQ(smallest_answer_ttl(nullptr, 0), std::nullopt);
}

TEST(DnsAnswerDecoding, AddressAnswers) {
  const Bytes answer = message(ns_t_a, {{600, {192, 0, 2, 7}}, {60, {192, 0, 2, 8}}});
  AddressLookup lookup = decode_address_answer(ns_t_a, "x.example", ARES_SUCCESS, answer.data(),
                                               static_cast<int>(answer.size()));
  EXPECT_EQ(lookup.status, DnsStatus::ok);
  ASSERT_EQ(lookup.addresses.size(), 2u);
  EXPECT_EQ(lookup.addresses[0].to_string(), "192.0.2.7");
  EXPECT_EQ(lookup.ttl, std::chrono::seconds(60));

  const Bytes empty = message(ns_t_a, {});
  EXPECT_EQ(decode_address_answer(ns_t_a, "x.example", ARES_SUCCESS, empty.data(),
                                  static_cast<int>(empty.size()))
                .status,
            DnsStatus::no_data);
  EXPECT_EQ(decode_address_answer(ns_t_a, "x.example", ARES_ENOTFOUND, nullptr, 0).status,
            DnsStatus::no_such_domain);
  EXPECT_EQ(decode_address_answer(ns_t_aaaa, "x.example", ARES_ENODATA, nullptr, 0).status,
            DnsStatus::no_data);
  const AddressLookup cancelled =
      decode_address_answer(ns_t_a, "x.example", ARES_ECANCELLED, nullptr, 0);
  EXPECT_TRUE(cancelled.cancelled);
  EXPECT_EQ(cancelled.error, "cancelled");
  const AddressLookup failed =
      decode_address_answer(ns_t_aaaa, "x.example", ARES_ESERVFAIL, nullptr, 0);
  EXPECT_EQ(failed.status, DnsStatus::inconclusive);
  EXPECT_EQ(failed.error, "AAAA x.example: SERVFAIL");
}

TEST(DnsAnswerDecoding, DescribesFailures) {
  EXPECT_EQ(describe_failure("MX", "x.example", ARES_ETIMEOUT), "MX x.example: timeout");
  EXPECT_EQ(describe_failure("MX", "x.example", ARES_ECONNREFUSED),
            "MX x.example: server failure (SERVFAIL, REFUSED or unreachable)");
  EXPECT_EQ(describe_failure("A", "x.example", ARES_EBADRESP), "A x.example: malformed answer");
  EXPECT_TRUE(is_cancellation(ARES_EDESTRUCTION));
  EXPECT_TRUE(is_cancellation(ARES_ECANCELLED));
  EXPECT_FALSE(is_cancellation(ARES_ETIMEOUT));
}

TEST(DnsAnswerDecoding, MergesAandAAAA) {
  AddressLookup v4;
  v4.status = DnsStatus::ok;
  v4.addresses = {asio::ip::make_address("192.0.2.1")};
  v4.ttl = std::chrono::seconds(300);
  AddressLookup v6;
  v6.status = DnsStatus::ok;
  v6.addresses = {asio::ip::make_address("2001:db8::1")};
  v6.ttl = std::chrono::seconds(100);
  AddressLookup both = merge_address_lookups(v4, v6);
  EXPECT_EQ(both.status, DnsStatus::ok);
  EXPECT_EQ(both.addresses.size(), 2u);
  EXPECT_EQ(both.ttl, std::chrono::seconds(100));

  AddressLookup missing;
  missing.status = DnsStatus::no_data;
  EXPECT_EQ(merge_address_lookups(v4, missing).ttl, std::chrono::seconds(300));

  AddressLookup broken;
  broken.error = "AAAA x.example: timeout";
  AddressLookup gone;
  gone.status = DnsStatus::no_such_domain;
  const AddressLookup unsure = merge_address_lookups(gone, broken);
  EXPECT_EQ(unsure.status, DnsStatus::inconclusive);
  EXPECT_EQ(unsure.error, "AAAA x.example: timeout");
  EXPECT_EQ(merge_address_lookups(gone, missing).status, DnsStatus::no_such_domain);
  EXPECT_EQ(merge_address_lookups(missing, missing).status, DnsStatus::no_data);
  AddressLookup cancelled;
  cancelled.cancelled = true;
  EXPECT_TRUE(merge_address_lookups(v4, cancelled).cancelled);
}

TEST(DnsAnswerDecoding, MxRecordsByPreference) {
  const Bytes answer = message(ns_t_mx, {{300, mx_data(20, {"MX2", "x", "example"})},
                                         {300, mx_data(10, {"mx1", "x", "example"})}});
  MxAnswer mx;
  ASSERT_EQ(decode_mx_answer(answer.data(), static_cast<int>(answer.size()), mx), ARES_SUCCESS);
  ASSERT_EQ(mx.hosts.size(), 2u);
  EXPECT_EQ(mx.hosts[0].host, "mx1.x.example");
  EXPECT_EQ(mx.hosts[0].preference, 10);
  EXPECT_EQ(mx.hosts[1].host, "mx2.x.example");
  EXPECT_FALSE(mx.null_mx);

  const Bytes null_mx = message(ns_t_mx, {{300, mx_data(0, {})}});
  MxAnswer none;
  ASSERT_EQ(decode_mx_answer(null_mx.data(), static_cast<int>(null_mx.size()), none), ARES_SUCCESS);
  EXPECT_TRUE(none.hosts.empty());
  EXPECT_TRUE(none.null_mx);

  const Bytes empty = message(ns_t_mx, {});
  MxAnswer nothing;
  EXPECT_EQ(decode_mx_answer(empty.data(), static_cast<int>(empty.size()), nothing), ARES_ENODATA);
}

}  // namespace
}  // namespace mailsentry
