// Reading what c-ares hands back: status codes, raw answers (TTLs, A, AAAA
// and MX records) and the merge of the A and AAAA halves of one lookup.
#pragma once

#include <asio/ip/address.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/dns_resolver.hpp"

namespace mailsentry {

inline constexpr std::string_view kCancelled = "cancelled";

// Lower case, no surrounding space, no trailing dot: the form names are
// cached, compared and reported in.
std::string normalise_name(std::string_view name);

// The query was abandoned (channel destroyed or reconfigured).
bool is_cancellation(int status);

// "MX example.com: SERVFAIL": what failed, for which name, and why.
std::string describe_failure(std::string_view what, const std::string& name, int status);

// The smallest TTL in the answer section of a raw DNS message; nullopt when
// it has no answer or is cut short.
std::optional<std::chrono::seconds> smallest_answer_ttl(const unsigned char* message, int length);

// One A or AAAA query's outcome, before A and AAAA are merged.
struct AddressLookup {
  DnsStatus status = DnsStatus::inconclusive;
  bool cancelled = false;
  std::vector<asio::ip::address> addresses;
  std::chrono::seconds ttl{0};
  std::string error;
};

// `type` is ns_t_a or ns_t_aaaa; `status` the c-ares status of the query.
AddressLookup decode_address_answer(int type, const std::string& name, int status,
                                    const unsigned char* answer, int length);

// A and AAAA together: addresses from either make it ok.
AddressLookup merge_address_lookups(AddressLookup ipv4, AddressLookup ipv6);

// Fills answer.hosts (normalised, by preference) and answer.null_mx from a
// raw MX answer; returns ARES_SUCCESS, ARES_ENODATA or another c-ares error.
int decode_mx_answer(const unsigned char* raw_answer, int length, MxAnswer& answer);

}  // namespace mailsentry
