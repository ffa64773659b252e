// Parsers of registration dates in RDAP domain objects and WHOIS answers.
#include "net/registration_date.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "net/domain_age.hpp"

namespace mailsentry {
namespace {

constexpr int kSecondsPerDay = 86400;

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::size_t digits_at(std::string_view s, std::size_t pos) {
  std::size_t n = 0;
  while (pos + n < s.size() && is_digit(s[pos + n])) ++n;
  return n;
}

// Reads exactly `count` digits at `pos` (advancing it) when they are there.
bool read_number(std::string_view s, std::size_t& pos, std::size_t count, int& value) {
  if (pos + count > s.size()) return false;
  int result = 0;
  for (std::size_t i = 0; i < count; ++i) {
    if (!is_digit(s[pos + i])) return false;
    result = result * 10 + (s[pos + i] - '0');
  }
  value = result;
  pos += count;
  return true;
}

// Reads one or two digits (day or month written without a leading zero).
bool read_small_number(std::string_view s, std::size_t& pos, int& value) {
  std::size_t n = digits_at(s, pos);
  if (n == 0 || n > 2) return false;
  return read_number(s, pos, n, value);
}

std::optional<int> month_from_name(std::string_view name) {
  static constexpr std::array<std::string_view, 12> kMonths = {
      "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"};
  if (name.size() < 3) return std::nullopt;
  std::string prefix;
  for (char c : name.substr(0, 3)) prefix += ascii_lower(c);
  for (std::size_t i = 0; i < kMonths.size(); ++i) {
    if (kMonths[i] == prefix) return static_cast<int>(i) + 1;
  }
  return std::nullopt;
}

bool is_leap_year(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int days_in_month(int year, int month) {
  static constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && is_leap_year(year) ? 29 : kDays[month - 1];
}

// Time of day and UTC offset after an ISO date; returns the shift in seconds
// to add to midnight of the date, or 0 when no (valid) time follows.
std::int64_t iso_time_shift(std::string_view s, std::size_t pos) {
  if (pos >= s.size() || (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ')) return 0;
  ++pos;
  int hour = 0, minute = 0, second = 0;
  if (!read_number(s, pos, 2, hour) || pos >= s.size() || s[pos] != ':') return 0;
  ++pos;
  if (!read_number(s, pos, 2, minute)) return 0;
  if (pos < s.size() && s[pos] == ':') {
    ++pos;
    if (!read_number(s, pos, 2, second)) return 0;
    if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
      ++pos;
      pos += digits_at(s, pos);
    }
  }
  if (hour > 24 || minute > 59 || second > 60) return 0;
  std::int64_t shift = hour * 3600 + minute * 60 + second;
  if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int sign = s[pos] == '-' ? -1 : 1;
    ++pos;
    int offset_hours = 0, offset_minutes = 0;
    if (!read_number(s, pos, 2, offset_hours)) return shift;
    if (pos < s.size() && s[pos] == ':') ++pos;
    read_number(s, pos, 2, offset_minutes);  // optional ("+02" is legal ISO 8601)
    if (offset_hours > 23 || offset_minutes > 59) return shift;
    // Local time = UTC + offset, so UTC = local - offset.
    shift -= sign * (offset_hours * 3600 + offset_minutes * 60);
  }
  return shift;
}

std::optional<int> utc_day(int days, std::int64_t shift) {
  std::int64_t seconds = static_cast<std::int64_t>(days) * kSecondsPerDay + shift;
  std::int64_t day = seconds / kSecondsPerDay;
  if (seconds % kSecondsPerDay < 0) --day;  // floor, for dates near the epoch
  if (day < 0) return std::nullopt;
  return static_cast<int>(day);
}

// 2001.01.31, 2001/01/31, "2001. 01. 31.", 2001-1-31 (after the year: s[4] is the separator).
std::optional<int> parse_year_first(std::string_view s) {
  std::size_t pos = 0;
  int year = 0, month = 0, day = 0;
  if (!read_number(s, pos, 4, year)) return std::nullopt;
  char separator = s[pos++];
  while (pos < s.size() && s[pos] == ' ') ++pos;
  if (!read_small_number(s, pos, month)) return std::nullopt;
  if (pos >= s.size() || s[pos] != separator) return std::nullopt;
  ++pos;
  while (pos < s.size() && s[pos] == ' ') ++pos;
  if (!read_small_number(s, pos, day)) return std::nullopt;
  return days_since_epoch(year, month, day);
}

// 31-Jan-2001, 31 Jan 2001, 31.01.2001.
std::optional<int> parse_day_first(std::string_view s) {
  std::size_t pos = 0;
  int day = 0, month = 0, year = 0;
  if (!read_small_number(s, pos, day) || pos >= s.size()) return std::nullopt;
  char separator = s[pos++];
  if (separator == '.') {
    if (!read_small_number(s, pos, month) || pos >= s.size() || s[pos] != '.') return std::nullopt;
    ++pos;
  } else if (separator == '-' || separator == ' ') {
    std::size_t name_end = pos;
    while (name_end < s.size() && std::isalpha(static_cast<unsigned char>(s[name_end]))) ++name_end;
    std::optional<int> named = month_from_name(s.substr(pos, name_end - pos));
    if (!named || name_end - pos > 9 || name_end >= s.size() || s[name_end] != separator) {
      return std::nullopt;
    }
    month = *named;
    pos = name_end + 1;
  } else {
    return std::nullopt;  // 01/02/2001: day or month first? Nobody can tell.
  }
  if (digits_at(s, pos) != 4 || !read_number(s, pos, 4, year)) return std::nullopt;
  return days_since_epoch(year, month, day);
}

// Java's Date.toString(): "Wed Jan 31 12:00:00 GMT 2001".
std::optional<int> parse_java_date(std::string_view s) {
  std::vector<std::string_view> words;
  while (!s.empty()) {
    std::size_t end = 0;
    while (end < s.size() && !is_space(s[end])) ++end;
    words.push_back(s.substr(0, end));
    s.remove_prefix(end);
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  }
  if (words.size() < 6 || words[0].size() != 3 || words[1].size() != 3) return std::nullopt;
  std::optional<int> month = month_from_name(words[1]);
  std::size_t pos = 0;
  int day = 0, year = 0;
  if (!month || !read_small_number(words[2], pos, day) || pos != words[2].size()) {
    return std::nullopt;
  }
  pos = 0;
  if (words[5].size() != 4 || !read_number(words[5], pos, 4, year)) return std::nullopt;
  return days_since_epoch(year, *month, day);
}

// Keys (lower case, trailing dots and blanks removed) under which registries
// publish the creation date.
bool is_creation_key(std::string_view key) {
  static constexpr std::array<std::string_view, 17> kKeys = {
      "creation date",             // ICANN registry agreement format (Verisign, PIR, ...)
      "created",                   // RIPE-style ccTLDs (.fr, .se, .nu, .br, .it "Created")
      "created on",                // older gTLD registries
      "created date",              //
      "creation",                  //
      "registered on",             // Nominet .uk
      "registered",                // CZ.NIC and others
      "registration time",         // CNNIC .cn
      "registration date",         //
      "registered date",           // KISA .kr
      "domain registration date",  // Neustar-era .us / .biz
      "domain create date",        //
      "domain created",            //
      "record created",            //
      "domain record activated",   // Educause .edu
      "登録年月日",                // JPRS .jp
      "created on date",           //
  };
  return std::find(kKeys.begin(), kKeys.end(), key) != kKeys.end();
}

std::string normalize_key(std::string_view raw) {
  std::string key;
  bool pending_space = false;
  for (char c : trim(raw)) {
    if (is_space(c)) {
      pending_space = true;
      continue;
    }
    if (pending_space && !key.empty()) key += ' ';
    pending_space = false;
    key += ascii_lower(c);
  }
  // "created ..........: 2004-05-10" style padding.
  while (!key.empty() && (key.back() == '.' || key.back() == ' ')) key.pop_back();
  return key;
}

// Refuses JSON nested deeper than any RDAP answer needs, before parsing it.
bool nesting_within(std::string_view json, int max_depth) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < json.size(); ++i) {
    char c = json[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return false;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return true;
}

}  // namespace

std::optional<int> days_since_epoch(int year, int month, int day) {
  if (year < 1970 || year > 2999 || month < 1 || month > 12 || day < 1 ||
      day > days_in_month(year, month)) {
    return std::nullopt;
  }
  // Count from 1 March so that the leap day falls at the end of the year.
  int shifted_year = month <= 2 ? year - 1 : year;
  int era = shifted_year / 400;
  int year_of_era = shifted_year - era * 400;
  int month_from_march = (month + 9) % 12;
  int day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
  int day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;  // 719468: days from 0000-03-01 to 1970-01-01
}

std::optional<int> parse_iso_date_days(std::string_view text) {
  std::string_view s = trim(text);
  std::size_t pos = 0;
  int year = 0, month = 0, day = 0;
  if (!read_number(s, pos, 4, year) || pos >= s.size() || s[pos++] != '-') return std::nullopt;
  if (!read_number(s, pos, 2, month) || pos >= s.size() || s[pos++] != '-') return std::nullopt;
  if (!read_number(s, pos, 2, day) || digits_at(s, pos) != 0) return std::nullopt;
  std::optional<int> days = days_since_epoch(year, month, day);
  if (!days) return std::nullopt;
  return utc_day(*days, iso_time_shift(s, pos));
}

std::optional<int> parse_loose_date_days(std::string_view text) {
  std::string_view s = trim(text);
  if (s.empty()) return std::nullopt;
  std::size_t leading_digits = digits_at(s, 0);
  if (leading_digits == 4 && s.size() > 4) {
    if (s[4] == '-') {
      if (auto iso = parse_iso_date_days(s)) return iso;
    }
    if (s[4] == '-' || s[4] == '.' || s[4] == '/') return parse_year_first(s);
    return std::nullopt;
  }
  if (leading_digits == 8) {  // 20010131 (Registro.br)
    std::size_t pos = 0;
    int year = 0, month = 0, day = 0;
    read_number(s, pos, 4, year);
    read_number(s, pos, 2, month);
    read_number(s, pos, 2, day);
    return days_since_epoch(year, month, day);
  }
  if (leading_digits == 1 || leading_digits == 2) return parse_day_first(s);
  if (leading_digits == 0) return parse_java_date(s);
  return std::nullopt;
}

std::optional<int> rdap_registration_days(std::string_view json) {
  if (!nesting_within(json, 64)) return std::nullopt;
  nlohmann::json document =
      nlohmann::json::parse(json.begin(), json.end(), /*cb=*/nullptr, /*allow_exceptions=*/false);
  if (!document.is_object()) return std::nullopt;
  auto events = document.find("events");
  if (events == document.end() || !events->is_array()) return std::nullopt;
  std::optional<int> earliest;
  for (const nlohmann::json& event : *events) {
    if (!event.is_object()) continue;
    auto action = event.find("eventAction");
    auto date = event.find("eventDate");
    if (action == event.end() || !action->is_string() || date == event.end() ||
        !date->is_string()) {
      continue;
    }
    if (normalize_key(action->get_ref<const std::string&>()) != "registration") continue;
    std::optional<int> days = parse_iso_date_days(date->get_ref<const std::string&>());
    if (days && (!earliest || *days < *earliest)) earliest = days;
  }
  return earliest;
}

std::optional<int> whois_creation_days(std::string_view response) {
  while (!response.empty()) {
    std::size_t end = response.find('\n');
    std::string_view line = trim(response.substr(0, end));
    response.remove_prefix(end == std::string_view::npos ? response.size() : end + 1);
    std::string_view key, value;
    if (!line.empty() && line.front() == '[') {  // JPRS: "[登録年月日]  2001/01/01"
      std::size_t close = line.find(']');
      if (close == std::string_view::npos) continue;
      key = line.substr(1, close - 1);
      value = line.substr(close + 1);
    } else {
      std::size_t colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      key = line.substr(0, colon);
      value = line.substr(colon + 1);
    }
    if (!is_creation_key(normalize_key(key))) continue;
    if (std::optional<int> days = parse_loose_date_days(value)) return days;
  }
  return std::nullopt;
}

}  // namespace mailsentry
