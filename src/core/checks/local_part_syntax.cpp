#include "checks/local_part_syntax.hpp"

#include <uninorm.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "checks/address_characters.hpp"
#include "checks/syntax_rules.hpp"

namespace mailsentry {
namespace {

constexpr std::array<bool, 256> make_atext_table() {
  std::array<bool, 256> table{};
  for (int c = 'a'; c <= 'z'; ++c) table[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) table[c] = true;
  for (int c = '0'; c <= '9'; ++c) table[c] = true;
  for (char c : std::string_view("!#$%&'*+-/=?^_`{|}~"))
    table[static_cast<unsigned char>(c)] = true;
  for (int c = 0x80; c <= 0xFF; ++c) table[c] = true;  // UTF-8, validated beforehand
  return table;
}
constexpr std::array<bool, 256> kAtext = make_atext_table();

struct MallocFree {
  void operator()(std::uint8_t* memory) const { std::free(memory); }
};

// `text` in Unicode Normalization Form C; false if libunistring fails
// (out of memory: the input was validated as UTF-8 beforehand).
bool to_nfc(std::string_view text, std::string& nfc) {
  std::size_t length = 0;
  std::unique_ptr<std::uint8_t, MallocFree> normalized(
      u8_normalize(UNINORM_NFC, reinterpret_cast<const std::uint8_t*>(text.data()), text.size(),
                   nullptr, &length));
  if (!normalized) return false;
  nfc.assign(reinterpret_cast<const char*>(normalized.get()), length);
  return true;
}

}  // namespace

// RFC 5321 Quoted-string with RFC 6531 UTF-8 in qtextSMTP.
LocalPartSyntax parse_quoted_local_part(std::string_view input) {
  LocalPartSyntax local;
  local.quoted = true;
  std::size_t i = 1;
  for (;;) {
    if (i >= input.size()) {
      local.error = "unclosed quoted string";
      return local;
    }
    const char c = input[i];
    if (c == '"') break;
    if (c == '\\') {
      if (i + 1 >= input.size()) {
        local.error = "unclosed quoted string";
        return local;
      }
      const unsigned char escaped = static_cast<unsigned char>(input[i + 1]);
      if (escaped < 0x20 || escaped > 0x7E) {
        local.error = "backslash before a character other than printable ASCII";
        return local;
      }
      i += 2;
      continue;
    }
    ++i;  // qtextSMTP: space, printable ASCII but '"' and '\', any UTF-8
  }
  local.length = i + 1;
  if (local.length == input.size()) {
    local.error = "missing @";
  } else if (input[local.length] == '.') {
    local.error = "quoted string must be the whole local part";
  } else if (input[local.length] != '@') {
    local.error = "text after the quoted string in local part";
  }
  return local;
}

// RFC 5321 Dot-string with RFC 6531 UTF-8 in atext.
LocalPartSyntax parse_dot_string_local_part(std::string_view input) {
  LocalPartSyntax local;
  std::size_t i = 0;
  for (; i < input.size() && input[i] != '@'; ++i) {
    const char c = input[i];
    if (c == '.') {
      if (i == 0) {
        local.error = "local part starts with a dot";
        return local;
      }
      if (input[i - 1] == '.') {
        local.error = "two dots in a row in local part";
        return local;
      }
    } else if (!kAtext[static_cast<unsigned char>(c)]) {
      local.error = describe_bad_char(c, AddressPart::local);
      return local;
    }
  }
  if (i == input.size()) {
    local.error = "missing @";
  } else if (i == 0) {
    local.error = "empty local part";
  } else if (input[i - 1] == '.') {
    local.error = "local part ends with a dot";
  }
  local.length = i;
  return local;
}

std::string normalize_local_part(std::string_view written, bool quoted, std::string& local) {
  if (is_ascii(written)) {  // ASCII is its own NFC
    local.assign(written);
    return {};
  }
  if (!to_nfc(written, local)) return "local part cannot be normalised to NFC";
  if (local == written) return {};

  bool non_ascii_left = false;  // known already: only the error matters
  std::string error = find_forbidden_character(local, non_ascii_left);
  if (error.empty()) {
    local += '@';  // the parsers read up to the "@"
    const LocalPartSyntax again =
        quoted ? parse_quoted_local_part(local) : parse_dot_string_local_part(local);
    if (!again.error.empty()) {
      error = again.error;
    } else if (again.length + 1 != local.size()) {
      error = "'@' in local part";
    }
    local.pop_back();
  }
  if (!error.empty()) error += " after Unicode normalisation (NFC)";
  return error;
}

}  // namespace mailsentry
