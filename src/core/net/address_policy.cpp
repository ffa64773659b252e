#include "net/address_policy.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>

namespace mailsentry {

namespace {

struct V4Range {
  std::uint32_t network;
  int prefix;
  const char* reason;
};

// IANA IPv4 special-purpose ranges that are never a public mail server.
constexpr std::array<V4Range, 15> kV4Forbidden = {{
    {0x00000000, 8, "this-network"},
    {0x0A000000, 8, "private"},
    {0x64400000, 10, "shared (carrier-grade NAT)"},
    {0x7F000000, 8, "loopback"},
    {0xA9FE0000, 16, "link-local"},
    {0xAC100000, 12, "private"},
    {0xC0000000, 24, "IETF protocol assignment"},
    {0xC0000200, 24, "documentation"},
    {0xC0A80000, 16, "private"},
    {0xC6120000, 15, "benchmarking"},
    {0xC6336400, 24, "documentation"},
    {0xCB007100, 24, "documentation"},
    {0xE0000000, 4, "multicast"},
    // First match wins: the broadcast address before the 240/4 holding it.
    {0xFFFFFFFF, 32, "broadcast"},
    {0xF0000000, 4, "reserved"},
}};

std::string v4_reason(const asio::ip::address_v4& address) {
  const std::uint32_t value = address.to_uint();
  for (const V4Range& range : kV4Forbidden) {
    const std::uint32_t mask = range.prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - range.prefix);
    if ((value & mask) == range.network) return range.reason;
  }
  return {};
}

using V6Bytes = asio::ip::address_v6::bytes_type;

bool all_zero(const V6Bytes& bytes, std::size_t from, std::size_t to) {
  for (std::size_t i = from; i < to; ++i)
    if (bytes[i] != 0) return false;
  return true;
}

bool has_prefix(const V6Bytes& bytes, std::initializer_list<std::uint8_t> prefix) {
  return std::equal(prefix.begin(), prefix.end(), bytes.begin());
}

// The IPv4 address in bytes [at, at + 4), each byte XORed with flip (Teredo
// stores its client address inverted).
asio::ip::address_v4 v4_at(const V6Bytes& bytes, std::size_t at, std::uint8_t flip = 0) {
  return asio::ip::address_v4(
      asio::ip::address_v4::bytes_type{static_cast<unsigned char>(bytes[at] ^ flip),
                                       static_cast<unsigned char>(bytes[at + 1] ^ flip),
                                       static_cast<unsigned char>(bytes[at + 2] ^ flip),
                                       static_cast<unsigned char>(bytes[at + 3] ^ flip)});
}

// The IPv4 verdict on an embedded address, naming the IPv6 form it came in.
std::string embedded_reason(const asio::ip::address_v4& v4, const char* form) {
  std::string reason = v4_reason(v4);
  return reason.empty() ? reason : reason + " embedded in " + form;
}

// The forms that embed an IPv4 address come first, so that a refused IPv4
// never hides behind a prefix the generic IPv6 checks would let through. See
// the header for why each form is judged or refused.
std::string v6_reason(const asio::ip::address_v6& address) {
  const V6Bytes bytes = address.to_bytes();
  // ::/96 holds ::, ::1 and the deprecated IPv4-compatible ::a.b.c.d.
  if (all_zero(bytes, 0, 12)) {
    if (address.is_unspecified()) return "unspecified";
    if (address.is_loopback()) return "loopback";
    std::string reason = embedded_reason(v4_at(bytes, 12), "IPv4-compatible");
    return reason.empty() ? "deprecated IPv4-compatible" : reason;
  }
  if (address.is_v4_mapped()) return embedded_reason(v4_at(bytes, 12), "IPv4-mapped");
  // ::ffff:0:0:0/96 (SIIT, RFC 2765).
  if (all_zero(bytes, 0, 8) && bytes[8] == 0xFF && bytes[9] == 0xFF && bytes[10] == 0 &&
      bytes[11] == 0)
    return embedded_reason(v4_at(bytes, 12), "IPv4-translated");
  // 64:ff9b::/32 holds the NAT64 well-known prefix, only ever a /96 (RFC
  // 6052), and the local-use 64:ff9b:1::/48 (RFC 8215); the rest is
  // unassigned, refused rather than guessed at.
  if (has_prefix(bytes, {0x00, 0x64, 0xFF, 0x9B})) {
    if (all_zero(bytes, 4, 12)) return embedded_reason(v4_at(bytes, 12), "NAT64");
    return bytes[4] == 0 && bytes[5] == 1 ? "local-use NAT64" : "reserved";
  }
  // 6to4: the site router's IPv4 is bits 16-47.
  if (has_prefix(bytes, {0x20, 0x02})) {
    std::string reason = embedded_reason(v4_at(bytes, 2), "6to4");
    return reason.empty() ? "6to4 transition" : reason;
  }
  // Teredo: server IPv4 in bits 32-63, client IPv4 inverted in the last 32.
  if (has_prefix(bytes, {0x20, 0x01, 0x00, 0x00})) {
    std::string reason = embedded_reason(v4_at(bytes, 12, 0xFF), "Teredo client");
    if (reason.empty()) reason = embedded_reason(v4_at(bytes, 4), "Teredo server");
    return reason.empty() ? "Teredo transition" : reason;
  }
  if (address.is_multicast()) return "multicast";
  if (address.is_link_local()) return "link-local";
  if (address.is_site_local()) return "site-local";
  if ((bytes[0] & 0xFE) == 0xFC) return "unique local (private)";
  if (has_prefix(bytes, {0x20, 0x01, 0x0D, 0xB8})) return "documentation";
  if (has_prefix(bytes, {0x01, 0x00, 0, 0, 0, 0, 0, 0})) return "discard-only";
  return {};
}

}  // namespace

std::string forbidden_reason(const asio::ip::address& address) {
  return address.is_v4() ? v4_reason(address.to_v4()) : v6_reason(address.to_v6());
}

}  // namespace mailsentry
