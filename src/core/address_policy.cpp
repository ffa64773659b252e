#include "address_policy.hpp"

#include <array>
#include <cstdint>

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
    {0xF0000000, 4, "reserved"},
    {0xFFFFFFFF, 32, "broadcast"},
}};

std::string v4_reason(const asio::ip::address_v4& address) {
  const std::uint32_t value = address.to_uint();
  for (const V4Range& range : kV4Forbidden) {
    const std::uint32_t mask = range.prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - range.prefix);
    if ((value & mask) == range.network) return range.reason;
  }
  return {};
}

std::string v6_reason(const asio::ip::address_v6& address) {
  if (address.is_v4_mapped())
    return v4_reason(asio::ip::make_address_v4(asio::ip::v4_mapped, address));
  if (address.is_loopback()) return "loopback";
  if (address.is_unspecified()) return "unspecified";
  if (address.is_multicast()) return "multicast";
  if (address.is_link_local()) return "link-local";
  if (address.is_site_local()) return "site-local";
  const auto bytes = address.to_bytes();
  if ((bytes[0] & 0xFE) == 0xFC) return "unique local (private)";
  if (bytes[0] == 0x20 && bytes[1] == 0x01 && bytes[2] == 0x0D && bytes[3] == 0xB8)
    return "documentation";
  if (bytes[0] == 0x01 && bytes[1] == 0x00 && bytes[2] == 0 && bytes[3] == 0 && bytes[4] == 0 &&
      bytes[5] == 0 && bytes[6] == 0 && bytes[7] == 0)
    return "discard-only";
  // 64:ff9b::/96 embeds an IPv4 address: judge that one.
  if (bytes[0] == 0x00 && bytes[1] == 0x64 && bytes[2] == 0xFF && bytes[3] == 0x9B) {
    asio::ip::address_v4::bytes_type v4{bytes[12], bytes[13], bytes[14], bytes[15]};
    return v4_reason(asio::ip::address_v4(v4));
  }
  return {};
}

}  // namespace

std::string forbidden_reason(const asio::ip::address& address) {
  return address.is_v4() ? v4_reason(address.to_v4()) : v6_reason(address.to_v6());
}

}  // namespace mailsentry
