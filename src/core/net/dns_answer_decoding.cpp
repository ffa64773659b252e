#include "net/dns_answer_decoding.hpp"

#include <ares.h>
#include <arpa/nameser.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>

#include "net/dns_servers.hpp"

namespace mailsentry {
namespace {

// Addresses read per A/AAAA answer (more do not fit a sane DNS answer).
constexpr int kMaxAddressesPerAnswer = 128;

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

asio::ip::address to_address(const ares_addrttl& record) {
  asio::ip::address_v4::bytes_type bytes;
  std::memcpy(bytes.data(), &record.ipaddr, bytes.size());
  return asio::ip::address_v4(bytes);
}

asio::ip::address to_address(const ares_addr6ttl& record) {
  asio::ip::address_v6::bytes_type bytes;
  std::memcpy(bytes.data(), &record.ip6addr, bytes.size());
  return asio::ip::address_v6(bytes);
}

// Runs c-ares' A or AAAA parser; appends the addresses to lookup.addresses
// and sets `count` (records read) and `smallest_ttl`. Returns its status.
template <typename Record>
int read_address_records(int (*parse)(const unsigned char*, int, hostent**, Record*, int*),
                         const unsigned char* answer, int length, AddressLookup& lookup, int& count,
                         std::optional<int>& smallest_ttl) {
  std::array<Record, kMaxAddressesPerAnswer> records{};
  count = kMaxAddressesPerAnswer;
  const int status = parse(answer, length, nullptr, records.data(), &count);
  for (int i = 0; status == ARES_SUCCESS && i < count; ++i) {
    lookup.addresses.push_back(to_address(records[i]));
    smallest_ttl = std::min(smallest_ttl.value_or(records[i].ttl), records[i].ttl);
  }
  return status;
}

}  // namespace

std::string normalise_name(std::string_view name) {
  name = trim_space(name);
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  std::string lowered(name);
  std::transform(lowered.begin(), lowered.end(), lowered.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lowered;
}

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

// Also counts a CNAME leading to the records: ares_parse_mx_reply does not
// report TTLs.
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
  int count = 0;
  std::optional<int> smallest_ttl;
  const int parse_status =
      type == ns_t_a ? read_address_records<ares_addrttl>(ares_parse_a_reply, answer, length,
                                                          lookup, count, smallest_ttl)
                     : read_address_records<ares_addr6ttl>(ares_parse_aaaa_reply, answer, length,
                                                           lookup, count, smallest_ttl);
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

int decode_mx_answer(const unsigned char* raw_answer, int length, MxAnswer& answer) {
  ares_mx_reply* records = nullptr;
  const int status = ares_parse_mx_reply(raw_answer, length, &records);
  if (status != ARES_SUCCESS) return status;
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
  answer.null_mx = only_root_exchanges;  // RFC 7505: "0 ." alone
  return ARES_SUCCESS;
}

}  // namespace mailsentry
