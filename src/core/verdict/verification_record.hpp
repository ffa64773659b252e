// The plain-data form of one verification result: fixed-size, no pointers,
// no destructors. C++ fills it inside the exception guard; PostgreSQL code
// turns it into a tuple after the guard has ended, so no ereport() can ever
// unwind through a C++ object. Includes no PostgreSQL header.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "checks/utf8.hpp"

namespace mailsentry {

// Bounded UTF-8 text; `present == false` is SQL NULL.
template <std::size_t Capacity>
struct FixedText {
  bool present;
  std::uint32_t size;
  char bytes[Capacity];

  void set_null() {
    present = false;
    size = 0;
  }
  // Copies at most Capacity bytes, cut at a character boundary; invalid
  // UTF-8 bytes become '?', so the text is always safe to hand to PostgreSQL.
  void assign(std::string_view text) {
    present = true;
    size = 0;
    std::size_t i = 0;
    while (i < text.size()) {
      const std::size_t length = utf8_sequence_length(text, i);
      if (length == 0) {
        if (size + 1 > Capacity) break;
        bytes[size++] = '?';
        ++i;
        continue;
      }
      if (size + length > Capacity) break;
      std::memcpy(bytes + size, text.data() + i, length);
      size += static_cast<std::uint32_t>(length);
      i += length;
    }
  }
  // NULL when empty.
  void assign_or_null(std::string_view text) {
    if (text.empty())
      set_null();
    else
      assign(text);
  }
  std::string_view view() const { return {bytes, size}; }
};

// SQL boolean that may be NULL.
enum class TriState : std::int8_t { null = -1, no = 0, yes = 1 };

struct NullableInt {
  bool present;
  std::int32_t value;
  void set(std::int32_t v) {
    present = true;
    value = v;
  }
  void set_null() {
    present = false;
    value = 0;
  }
};

constexpr std::size_t kMaxIssues = 16;
constexpr std::size_t kMaxMxRecords = 8;

struct VerificationRecord {
  FixedText<400> normalized;
  std::int32_t score;
  FixedText<16> verdict;
  FixedText<48> recommendation;
  FixedText<16> verification_level;
  FixedText<16> verification_depth;
  FixedText<512> warning;
  std::uint32_t issue_count;
  FixedText<160> issues[kMaxIssues];

  TriState syntax_valid;
  FixedText<64> plus_alias;
  TriState mx_found;
  std::uint32_t mx_record_count;
  FixedText<256> mx_records[kMaxMxRecords];
  TriState is_disposable;
  TriState is_role_based;
  FixedText<32> role_type;
  TriState is_free;
  FixedText<64> provider_name;
  TriState is_business;
  FixedText<64> mx_provider;
  TriState has_typo;
  FixedText<400> suggestion;

  TriState smtp_valid;
  TriState catch_all;
  FixedText<256> mx_host;
  TriState greylisted;
  NullableInt catch_all_confidence;
  NullableInt smtp_code;
  FixedText<256> smtp_message;

  TriState is_gibberish;
  NullableInt gibberish_score;
  FixedText<24> gibberish_pattern;

  TriState is_potential_trap;
  FixedText<32> trap_type;
  NullableInt trap_confidence;

  NullableInt domain_created_days;  // days since 1970-01-01
  NullableInt domain_age_days;
  FixedText<24> domain_risk_flag;
  TriState is_toxic;
  FixedText<32> abuse_type;

  bool cached;
};

}  // namespace mailsentry
