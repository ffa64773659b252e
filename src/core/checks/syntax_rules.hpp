// What the parts of the address syntax check (characters, local part,
// domain, fast path) share: RFC limits, names reserved from mail, the ASCII
// tests they all make, and the wording of a character in the wrong place.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

namespace mailsentry {

inline constexpr std::size_t kMaxLocalOctets = 64;     // RFC 5321 4.5.3.1.1
inline constexpr std::size_t kMaxDomainOctets = 253;   // 255-octet wire form minus framing
inline constexpr std::size_t kMaxLabelOctets = 63;     // RFC 1035 2.3.4
inline constexpr std::size_t kMaxMailboxOctets = 254;  // 256-octet path (4.5.3.1.3) minus "<>"

// The limits apply to the wire form: the NFC local part and the A-label domain.
inline constexpr const char* kLocalTooLong = "local part longer than 64 octets";
inline constexpr const char* kDomainTooLong = "domain longer than 253 octets";
inline constexpr const char* kLabelTooLong = "domain label longer than 63 octets";
inline constexpr const char* kNoDisplayNames = "display names and angle brackets are not allowed";

// RFC 6761 and RFC 9476 names that never receive Internet mail.
inline constexpr std::array<std::string_view, 7> kSpecialUseTlds = {
    "alt", "arpa", "invalid", "local", "localhost", "onion", "test"};

inline char to_lower_ascii(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

inline bool is_letter_or_digit(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

inline bool is_all_digits(std::string_view text) {
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

inline bool is_ascii(std::string_view text) {
  for (char c : text)
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  return true;
}

// "xn--" in any case: an A-label (RFC 5890 2.3.2.1).
inline bool starts_with_xn_prefix(std::string_view text) {
  return text.size() >= 4 && to_lower_ascii(text[0]) == 'x' && to_lower_ascii(text[1]) == 'n' &&
         text[2] == '-' && text[3] == '-';
}

enum class AddressPart { local, domain };

// Why the ASCII character `c` may not stand where it was found in `part`.
std::string describe_bad_char(char c, AddressPart part);

}  // namespace mailsentry
