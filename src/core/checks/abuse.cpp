#include "checks/abuse.hpp"

#include <array>
#include <cstddef>
#include <string_view>
#include <unordered_map>

#include "checks/local_part.hpp"

namespace mailsentry {
namespace {

// suspicious_severity: 3 = the local part is a throw-away test word,
// 2 = a test word combined with something else, a weaker test word, or a
// keyboard walk, 1 = a machine-made identifier (relay services such as
// Apple's Hide My Email mint these legitimately, so they weigh least).
constexpr int kStrongTest = 3;
constexpr int kWeakTest = 2;
constexpr int kKeyboardWalk = 2;
constexpr int kBotGenerated = 1;

// Words people type when an address is demanded but a real one is not wanted.
constexpr std::array<std::string_view, 21> kStrongTestWords = {
    "asd",       "asdasd",  "asdf",     "asdfasdf", "dummy",    "fake",   "fakeemail",
    "fakemail",  "foo",     "foobar",   "qwe",      "qwerty",   "test",   "testaccount",
    "testemail", "testing", "testmail", "testtest", "testuser", "asdfgh", "qwertz"};
// Placeholder words that are also, rarely, used for real.
constexpr std::array<std::string_view, 12> kWeakTestWords = {
    "abc",    "anonymous", "example", "janedoe", "johndoe", "noname",
    "sample", "somebody",  "someone", "temp",    "tester",  "tmp"};

// "test123", "test_2024": a numbered test word is still a test word.
constexpr std::size_t kMaxTestDigits = 6;

// Built once; lookups then cost one hash instead of a scan of both arrays.
int test_word_severity(std::string_view word) {
  static const std::unordered_map<std::string_view, int> kSeverityByWord = [] {
    std::unordered_map<std::string_view, int> table;
    for (auto w : kStrongTestWords) table.emplace(w, kStrongTest);
    for (auto w : kWeakTestWords) table.emplace(w, kWeakTest);
    return table;
  }();
  if (word.empty()) return 0;
  const auto it = kSeverityByWord.find(word);
  return it == kSeverityByWord.end() ? 0 : it->second;
}

int test_account_severity(const LocalPartKey& key) {
  int severity = 0;
  auto consider = [&severity](int s) { severity = s > severity ? s : severity; };
  consider(test_word_severity(key.compact()));
  if (key.compact().size() != key.lower().size()) consider(test_word_severity(key.lower()));
  consider(test_word_severity(without_digit_suffix(key.compact(), kMaxTestDigits)));
  if (severity > 0) return severity;
  // "john.test", "fake-user": a strong test word as one separated piece.
  const std::string_view lower = key.lower();
  std::size_t start = 0;
  while (start <= lower.size()) {
    std::size_t end = start;
    while (end < lower.size() && !is_local_separator(lower[end])) ++end;
    if (end == lower.size() && start == 0) break;  // no separator: handled above
    std::string_view piece = lower.substr(start, end - start);
    if (auto stripped = without_digit_suffix(piece, kMaxTestDigits); !stripped.empty()) {
      piece = stripped;
    }
    if (test_word_severity(piece) == kStrongTest) return kWeakTest;
    start = end + 1;
  }
  return 0;
}

bool is_hex_digit(char c) { return is_ascii_digit(c) || (c >= 'a' && c <= 'f'); }

// 8-4-4-4-12 hex groups.
bool is_uuid(std::string_view lower) {
  if (lower.size() != 36) return false;
  for (std::size_t i = 0; i < lower.size(); ++i) {
    const bool dash_position = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash_position ? lower[i] != '-' : !is_hex_digit(lower[i])) return false;
  }
  return true;
}

// 12+ hex characters mixing 3+ digits and 3+ letters: a hash or an id. Real
// words spelt only with a-f plus digits do not get this long.
bool is_long_hex(std::string_view compact) {
  if (compact.size() < 12) return false;
  std::size_t digits = 0;
  for (char c : compact) {
    if (!is_hex_digit(c)) return false;
    digits += is_ascii_digit(c);
  }
  return digits >= 3 && compact.size() - digits >= 3;
}

// Timestamps: a 13-digit millisecond time (1xxxxxxxxxxxx), a 14-digit
// yyyymmddhhmmss (20...), any 15+ digit run, or a 10-digit Unix time in
// 2014-2033 (14xxxxxxxx-19xxxxxxxx) appended to letters. A bare 10-11 digit
// local part is left alone: QQ ids and phone numbers look like that.
bool has_timestamp(std::string_view compact) {
  std::size_t i = 0;
  while (i < compact.size()) {
    if (!is_ascii_digit(compact[i])) {
      ++i;
      continue;
    }
    const std::size_t start = i;
    while (i < compact.size() && is_ascii_digit(compact[i])) ++i;
    const std::string_view run = compact.substr(start, i - start);
    if (run.size() >= 15) return true;
    if (run.size() == 13 && run[0] == '1') return true;
    if (run.size() == 14 && run[0] == '2' && run[1] == '0') return true;
    if (run.size() == 10 && start > 0 && run[0] == '1' && run[1] >= '4') return true;
  }
  return false;
}

// Random alphanumerics (base64-like): 10+ characters that change class
// (upper, lower, digit) at least every other character. Names with digits
// ("JohnSmith1990", "mike88jones") change class only a few times.
bool is_random_mix(std::string_view original) {
  enum class Kind { upper, lower, digit, other };
  auto kind_of = [](char c) {
    if (c >= 'A' && c <= 'Z') return Kind::upper;
    if (c >= 'a' && c <= 'z') return Kind::lower;
    if (is_ascii_digit(c)) return Kind::digit;
    return Kind::other;
  };
  std::size_t length = 0, digits = 0, changes = 0;
  Kind previous = Kind::other;
  for (char c : original) {
    const Kind kind = kind_of(c);
    if (kind == Kind::other) {
      if (is_local_separator(c)) continue;
      return false;
    }
    if (length > 0 && kind != previous) ++changes;
    digits += kind == Kind::digit;
    previous = kind;
    ++length;
  }
  if (length < 10 || digits < 2 || digits == length) return false;
  return changes * 2 >= length;
}

bool looks_machine_generated(const LocalPartKey& key) {
  return is_uuid(key.lower()) || is_long_hex(key.compact()) || has_timestamp(key.compact()) ||
         is_random_mix(key.original());
}

}  // namespace

AbuseResult assess_abuse(const ParsedAddress& address, const Lists& lists,
                         const GibberishResult& gibberish) {
  AbuseResult result;
  if (!address.address_literal && !address.domain.empty() &&
      find_domain_or_parent(lists.abuse_domains, address.domain).found) {
    result.is_toxic = true;
  }

  // The strongest local-part pattern names the type.
  std::string_view local_type;
  const LocalPartKey key(address.local);
  if (key.ok()) {
    if (int severity = test_account_severity(key); severity > 0) {
      local_type = "test_account";
      result.suspicious_severity = severity;
    }
    if (gibberish.pattern == "keyboard_sequence" && kKeyboardWalk > result.suspicious_severity) {
      local_type = "keyboard_walk";
      result.suspicious_severity = kKeyboardWalk;
    }
    if (looks_machine_generated(key)) {
      result.garbled_identifier = true;
      if (result.suspicious_severity == 0) {
        local_type = "bot_generated";
        result.suspicious_severity = kBotGenerated;
      }
    }
  }
  result.abuse_type = std::string(result.is_toxic ? std::string_view("abuse_domain") : local_type);
  return result;
}

}  // namespace mailsentry
