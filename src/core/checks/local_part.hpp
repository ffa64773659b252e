// Lookup forms of a local part for the list-based checks (role, trap, abuse,
// provider rules). Everything lives in fixed buffers so that a check can hash
// a local part without allocating.
#pragma once

#include <cstddef>
#include <string_view>

namespace mailsentry {

inline bool is_ascii_digit(char c) { return c >= '0' && c <= '9'; }
inline bool is_ascii_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
inline bool is_local_separator(char c) { return c == '.' || c == '-' || c == '_'; }
inline char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

// A local part split at its first '+' (subaddress tag), with the surrounding
// quotes of a quoted local part removed, in the forms the lists are keyed by.
class LocalPartKey {
 public:
  // RFC 5321 caps a local part at 64 octets; longer input is not a mailbox
  // name any list could hold, so ok() is false for it.
  static constexpr std::size_t kMaxLength = 64;

  explicit LocalPartKey(std::string_view local) {
    if (local.size() >= 2 && local.front() == '"' && local.back() == '"') {
      local = local.substr(1, local.size() - 2);
    }
    const std::size_t plus = local.find('+');
    if (plus != std::string_view::npos) {
      tag_ = local.substr(plus + 1);
      has_tag_ = true;
      local = local.substr(0, plus);
    }
    if (local.empty() || local.size() > kMaxLength) return;
    original_ = local;
    for (char c : local) {
      const char lower = ascii_lower(c);
      lower_[lower_size_++] = lower;
      if (!is_local_separator(lower)) compact_[compact_size_++] = lower;
    }
    ok_ = true;
  }

  bool ok() const { return ok_; }
  // The part before '+', as written (original case).
  std::string_view original() const { return original_; }
  // The part before '+', lower-cased: the key the lists use.
  std::string_view lower() const { return {lower_, lower_size_}; }
  // lower() without the separators . - _ ("no-reply" -> "noreply").
  std::string_view compact() const { return {compact_, compact_size_}; }
  bool has_tag() const { return has_tag_; }
  std::string_view tag() const { return tag_; }

 private:
  bool ok_ = false;
  bool has_tag_ = false;
  std::string_view original_;
  std::string_view tag_;
  char lower_[kMaxLength];
  char compact_[kMaxLength];
  std::size_t lower_size_ = 0;
  std::size_t compact_size_ = 0;
};

// `text` without a trailing run of 1..max_digits digits and the separators
// before it ("sales-2" -> "sales"); empty when there is no such suffix, the
// run is longer, or nothing would be left.
inline std::string_view without_digit_suffix(std::string_view text, std::size_t max_digits) {
  std::size_t end = text.size();
  while (end > 0 && is_ascii_digit(text[end - 1])) --end;
  const std::size_t digits = text.size() - end;
  if (digits == 0 || digits > max_digits) return {};
  while (end > 0 && is_local_separator(text[end - 1])) --end;
  return text.substr(0, end);
}

}  // namespace mailsentry
