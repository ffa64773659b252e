#include "checks/typo.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "checks/edit_distance.hpp"
#include "checks/public_suffix.hpp"
#include "checks/utf8.hpp"

namespace mailsentry {

namespace {

// Longer input is not an address (RFC 5321 caps a path at 256 octets); the
// margin leaves room for surrounding whitespace.
constexpr std::size_t kMaxAddressLength = 320;
constexpr std::size_t kMaxDomainLength = 253;

// Two edits catch the usual slips (gnail.con, yahooo.cmo, comcast.nry); a
// third makes unrelated short domains look alike.
constexpr int kMaxDomainEdits = 2;

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

std::string_view first_label(std::string_view domain) { return domain.substr(0, domain.find('.')); }

// Everything after the first label ("co.uk" for "hotmail.co.uk"), "" if none.
std::string_view after_first_label(std::string_view domain) {
  const auto dot = domain.find('.');
  return dot == std::string_view::npos ? std::string_view() : domain.substr(dot + 1);
}

// The last `count` labels of `domain`, or "" when it has no more labels than that
// (so that replacing them never leaves an empty name).
std::string_view last_labels(std::string_view domain, int count) {
  std::size_t end = domain.size();
  for (int i = 0; i < count; ++i) {
    const auto dot = domain.rfind('.', end - 1);
    if (dot == std::string_view::npos || dot == 0) return {};
    end = dot;
  }
  return domain.substr(end + 1);
}

// `longer` is `shorter` with exactly one character added (gmail.co -> gmail.com).
bool drops_one_character(std::string_view shorter, std::string_view longer) {
  return shorter.size() + 1 == longer.size() && within_one_edit(shorter, longer);
}

// `a` and `b` have the same length and differ in exactly one position.
bool differs_by_one_substitution(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  int mismatches = 0;
  for (std::size_t i = 0; i < a.size(); ++i) mismatches += a[i] != b[i];
  return mismatches == 1;
}

// What the Public Suffix List says about the domain being corrected, asked
// only when a decision needs it (libpsl lookups dominate the cost otherwise).
class SuffixFacts {
 public:
  SuffixFacts(std::string_view domain, const NamedList& popular_tlds)
      : domain_(domain), popular_tlds_(popular_tlds) {}

  // The domain ends in a suffix that exists (not just the PSL's "*" rule).
  bool known() {
    if (!known_) {
      // A TLD on the popular list is a real one: no need to ask libpsl.
      const auto dot = domain_.rfind('.');
      known_ = (dot != std::string_view::npos && popular_tlds_.contains(domain_.substr(dot + 1))) ||
               public_suffix_known(domain_);
    }
    return *known_;
  }

  // Everything after the first label is itself the public suffix: the domain
  // is "name.suffix" (gmx.fr, acme.co.za), not a subdomain and not x.com.uk,
  // where libpsl only recognises "uk".
  bool name_then_suffix() {
    if (!name_then_suffix_)
      name_then_suffix_ = public_suffix(domain_) == after_first_label(domain_);
    return *name_then_suffix_;
  }

 private:
  std::string_view domain_;
  const NamedList& popular_tlds_;
  std::optional<bool> known_;
  std::optional<bool> name_then_suffix_;
};

constexpr int kNotClose = kMaxDomainEdits + 1;

std::size_t length_gap(std::string_view a, std::string_view b) {
  return a.size() > b.size() ? a.size() - b.size() : b.size() - a.size();
}

// A 64-bit set of the bytes in `text` (folded modulo 64, which can only
// under-count differences, so it stays a valid filter).
std::uint64_t byte_set(std::string_view text) {
  std::uint64_t set = 0;
  for (const char c : text) set |= std::uint64_t{1} << (static_cast<unsigned char>(c) & 63);
  return set;
}

// How many characters of `text` are not in `set`, counting no further than
// `stop`. Each such character needs its own edit, so this bounds the distance
// from below for the price of a few bit tests.
int count_outside(std::string_view text, std::uint64_t set, int stop) {
  int outside = 0;
  for (const char c : text) {
    outside += (set >> (static_cast<unsigned char>(c) & 63) & 1) == 0;
    if (outside >= stop) break;
  }
  return outside;
}

// The domain being corrected, split once: "name.suffix" at its first dot.
struct DomainParts {
  explicit DomainParts(std::string_view domain_text)
      : domain(domain_text),
        name(first_label(domain_text)),
        suffix(after_first_label(domain_text)),
        name_bytes(byte_set(name)),
        domain_bytes(byte_set(domain_text)) {}
  std::string_view domain, name, suffix;
  std::uint64_t name_bytes, domain_bytes;
};

// The edit distance from a domain whose suffix does not exist to popular
// `candidate`, or kNotClose. Such a domain cannot receive mail as written, so
// any close popular domain helps; two edits only towards names long enough not
// to collide by chance.
int distance_from_unknown_suffix(const DomainParts& input, std::string_view candidate, int limit) {
  if (count_outside(candidate, input.domain_bytes, limit + 1) > limit) return kNotClose;
  const int distance = bounded_osa_distance(input.domain, candidate, limit);
  if (distance == 0 || distance > limit) return kNotClose;
  if (distance == 2 && first_label(candidate).size() < 4) return kNotClose;
  return distance;
}

bool ends_with(std::string_view text, std::string_view tail) {
  return text.size() >= tail.size() && same_text(text.substr(text.size() - tail.size()), tail);
}

// The edit distance from a domain whose suffix exists to popular `candidate`
// when that is a believable correction rather than a different real domain,
// else kNotClose. This runs for every popular domain of about the right
// length, so each rule is gated by O(1) byte comparisons before any scan,
// and the bounded distance runs only for names under the same suffix.
int distance_from_known_suffix(const DomainParts& input, std::string_view candidate, int limit,
                               SuffixFacts& facts) {
  const std::size_t name_size = input.name.size();
  if (candidate.size() > name_size && candidate[name_size] == '.' &&
      same_text(candidate.substr(0, name_size), input.name)) {
    // Only the suffix differs and both exist. A dropped character
    // (gmail.co, gmail.cm -> gmail.com) is a slip; a swapped country code
    // (hotmail.be vs hotmail.de, live.no vs live.nl) is usually the same
    // provider's sibling domain. x.com.uk-style suffixes are not real ones.
    const std::string_view candidate_suffix = candidate.substr(name_size + 1);
    if (drops_one_character(input.suffix, candidate_suffix)) return 1;
    if (within_one_edit(input.domain, candidate) && !facts.name_then_suffix()) return 1;
    return kNotClose;
  }

  const std::size_t suffix_size = input.suffix.size();
  if (candidate.size() > suffix_size + 1 && candidate[candidate.size() - suffix_size - 1] == '.' &&
      ends_with(candidate, input.suffix)) {
    const std::string_view candidate_name = candidate.substr(0, candidate.size() - suffix_size - 1);
    if (candidate_name.find('.') == std::string_view::npos) {
      // Misspelt name under the right suffix. Short names have many real
      // neighbours (hey.com vs me.com, box.net vs cox.net): fewer edits.
      const std::size_t size = candidate_name.size();
      const int budget = std::min(limit, size >= 5 ? 2 : size >= 3 ? 1 : 0);
      if (budget == 0 || length_gap(input.name, candidate_name) > static_cast<std::size_t>(budget))
        return kNotClose;
      if (budget == 1) {
        if (!within_one_edit(input.name, candidate_name)) return kNotClose;
        if (size == 3 && differs_by_one_substitution(input.name, candidate_name)) return kNotClose;
        return 1;
      }
      // Two edits that both add or both drop a letter make another name
      // (yopmail vs ymail, yahoofs vs yahoo), so the lengths must stay close.
      if (length_gap(input.name, candidate_name) > 1) return kNotClose;
      if (count_outside(candidate_name, input.name_bytes, budget + 1) > budget) return kNotClose;
      const int distance = bounded_osa_distance(input.name, candidate_name, budget);
      return distance <= budget ? distance : kNotClose;
    }
  }

  // Both a misspelt name and a truncated suffix (ootlook.co): long names only.
  const std::size_t longer_suffix_size = suffix_size + 1;
  if (limit >= 2 && candidate.size() > longer_suffix_size + 1 &&
      candidate[candidate.size() - longer_suffix_size - 1] == '.') {
    const std::string_view candidate_name =
        candidate.substr(0, candidate.size() - longer_suffix_size - 1);
    if (candidate_name.size() >= 5 && length_gap(input.name, candidate_name) <= 1 &&
        candidate_name.find('.') == std::string_view::npos &&
        drops_one_character(input.suffix, candidate.substr(candidate_name.size() + 1)) &&
        within_one_edit(input.name, candidate_name))
      return 2;
  }

  // One edit across the dot (gmailc.om, gmai.lcom -> gmail.com): the
  // candidate's first dot is one position off and everything before it matches.
  const bool dot_one_off =
      (name_size >= 1 && name_size - 1 < candidate.size() && candidate[name_size - 1] == '.') ||
      (name_size + 1 < candidate.size() && candidate[name_size + 1] == '.');
  if (dot_one_off && candidate[0] == input.domain[0] && first_label(candidate).size() >= 3 &&
      within_one_edit(input.domain, candidate))
    return 1;
  return kNotClose;
}

// The closest plausible popular domain within kMaxDomainEdits; ties go to the
// earlier (more popular) entry.
std::optional<std::string> closest_popular_domain(std::string_view domain, const Lists& lists,
                                                  SuffixFacts& facts) {
  const DomainParts input(domain);
  const bool suffix_known = facts.known();
  std::string_view best;
  int limit = kMaxDomainEdits;
  lists.popular_domains.for_each([&](const BuiltinEntry& entry) {
    const std::string_view candidate = entry.key;
    // Every rule below needs the lengths within `limit`; a one-edit match
    // cannot be beaten.
    if (limit < 1 || length_gap(domain, candidate) > static_cast<std::size_t>(limit)) return;
    const int distance = suffix_known ? distance_from_known_suffix(input, candidate, limit, facts)
                                      : distance_from_unknown_suffix(input, candidate, limit);
    // Two edits and a different first letter is usually another name
    // (yopmail.com vs hotmail.com, 33mail.com vs gmail.com): people rarely
    // miss the first letter and then slip again.
    if (distance > limit || (distance == 2 && candidate[0] != domain[0])) return;
    best = candidate;
    limit = distance - 1;
  });
  if (best.empty()) return std::nullopt;
  return std::string(best);
}

// A domain without a dot (`jane@gmail`, `jane@gmail.`) completed with the
// suffix of the most popular domain of that name.
std::optional<std::string> complete_popular_name(std::string_view name, const Lists& lists) {
  std::optional<std::string> found;
  lists.popular_domains.for_each([&](const BuiltinEntry& entry) {
    if (!found && entry.key.size() > name.size() + 1 && entry.key.substr(0, name.size()) == name &&
        entry.key[name.size()] == '.')
      found = std::string(entry.key);
  });
  return found;
}

// After the suffix of `domain` was repaired: a misspelt popular second-level
// name in front of it (hotmial.ogr -> hotmail.org). Only for plain
// "name.suffix" domains, with the same name budget as full domains.
std::string repair_popular_name(std::string repaired, std::size_t suffix_size, const Lists& lists) {
  const std::string_view name =
      std::string_view(repaired).substr(0, repaired.size() - suffix_size - 1);
  if (name.find('.') != std::string_view::npos || lists.popular_slds.contains(name))
    return repaired;
  std::string_view best;
  int limit = name.size() >= 5 ? 2 : name.size() >= 4 ? 1 : 0;
  lists.popular_slds.for_each([&](const BuiltinEntry& entry) {
    if (limit < 1) return;
    const int distance = bounded_osa_distance(name, entry.key, limit);
    if (distance > limit) return;
    best = entry.key;
    limit = distance - 1;
  });
  if (best.empty()) return repaired;
  return std::string(best) + repaired.substr(name.size());
}

// The closest popular TLD (or two-label suffix such as co.uk) to the end of
// a domain whose suffix does not exist: x.con -> x.com, a.co.ukk -> a.co.uk.
std::optional<std::string> repair_unknown_suffix(std::string_view domain, const Lists& lists) {
  const std::string_view last = last_labels(domain, 1);
  const std::string_view last_two = last_labels(domain, 2);
  // One character leaves too many equally good guesses (x.c: ca, ch, cz, com?).
  if (last.size() < 2) return std::nullopt;

  std::string_view best_replaced, best_suffix;
  int best_rank = 0;
  lists.popular_tlds.for_each([&](const BuiltinEntry& entry) {
    const std::string_view candidate = entry.key;
    const bool two_labels = candidate.find('.') != std::string_view::npos;
    const std::string_view replaced = two_labels ? last_two : last;
    if (replaced.empty() || replaced == candidate) return;
    if (bounded_osa_distance(replaced, candidate, 1) > 1) return;
    // Same-length fixes (transposed or mistyped letter: ogr -> org rather
    // than gr) first, then list order.
    const int rank = replaced.size() == candidate.size() ? 2 : 1;
    if (rank > best_rank) {
      best_rank = rank;
      best_replaced = replaced;
      best_suffix = candidate;
    }
  });
  if (best_rank == 0) return std::nullopt;
  std::string repaired(domain.substr(0, domain.size() - best_replaced.size()));
  repaired += best_suffix;
  return repair_popular_name(std::move(repaired), best_suffix.size(), lists);
}

// x.com.uk: libpsl accepts it (the suffix is "uk"), but "com.uk" is one edit
// from the real co.uk. Only second-level suffixes on the popular list are
// considered, and only when the last two labels are not a suffix themselves.
std::optional<std::string> repair_second_level_suffix(std::string_view domain, const Lists& lists) {
  const std::string_view last_two = last_labels(domain, 2);  // "" unless a name precedes them
  if (last_two.empty()) return std::nullopt;
  const std::string_view tld = last_labels(domain, 1);
  std::string_view replacement;
  lists.popular_tlds.for_each([&](const BuiltinEntry& entry) {
    const std::string_view candidate = entry.key;
    if (!replacement.empty() || candidate == last_two) return;
    // Same top-level label ("co.uk" for "com.uk"), one edit in front of it.
    if (candidate.size() <= tld.size() + 1 || !ends_with(candidate, tld) ||
        candidate[candidate.size() - tld.size() - 1] != '.')
      return;
    if (within_one_edit(last_two, candidate)) replacement = candidate;
  });
  if (replacement.empty() || public_suffix(domain) != tld) return std::nullopt;
  std::string repaired(domain.substr(0, domain.size() - last_two.size()));
  repaired += replacement;
  return repaired;
}

TypoResult make_suggestion(std::string_view local, std::string_view domain, bool domain_typo) {
  TypoResult result;
  result.has_typo = true;
  result.domain_typo = domain_typo;
  result.suggestion.reserve(local.size() + 1 + domain.size());
  result.suggestion.append(local).append(1, '@').append(domain);
  return result;
}

// What the check makes of `domain` (lower-cased, trailing dots stripped).
DomainTypo typo_of_domain(std::string_view domain, bool had_trailing_dot, const Lists& lists) {
  const auto suggest = [](std::string_view to, bool domain_typo) {
    return DomainTypo{true, std::string(to), domain_typo};
  };
  if (domain.find('.') == std::string_view::npos) {
    if (auto completed = complete_popular_name(domain, lists)) return suggest(*completed, true);
    return {};
  }

  // Fast path: the address is at a popular domain.
  if (lists.popular_domains.contains(domain))
    return had_trailing_dot ? suggest(domain, false) : DomainTypo{};

  SuffixFacts facts(domain, lists.popular_tlds);
  if (auto popular = closest_popular_domain(domain, lists, facts)) {
    // A curated provider domain is real even when it is close to a popular one.
    if (!lists.providers.contains(domain)) return suggest(*popular, true);
  }

  std::optional<std::string> repaired = facts.known() ? repair_second_level_suffix(domain, lists)
                                                      : repair_unknown_suffix(domain, lists);
  if (repaired) {
    // Still a popular domain when the name was repaired too (hotmial.ogr).
    return suggest(*repaired, lists.popular_domains.contains(*repaired));
  }
  if (had_trailing_dot) return suggest(domain, false);
  return {};
}

}  // namespace

TypoResult suggest_typo(std::string_view address, const Lists& lists, TypoMemo* memo) {
  address = trim(address);
  // Bytes that are not UTF-8 (SQL_ASCII databases) would come back garbled.
  if (address.size() > kMaxAddressLength || !is_valid_utf8(address)) return {};
  std::array<char, kMaxAddressLength> lowered;
  for (std::size_t i = 0; i < address.size(); ++i) {
    const char c = address[i];
    lowered[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  const std::string_view text(lowered.data(), address.size());

  const auto at = text.rfind('@');
  if (at == std::string_view::npos) return {};
  const std::string_view local = text.substr(0, at);
  std::string_view domain = text.substr(at + 1);
  // A trailing dot is a slip too (jane@gmail., jane@acme.com.).
  const bool had_trailing_dot = !domain.empty() && domain.back() == '.';
  while (!domain.empty() && domain.back() == '.') domain.remove_suffix(1);
  if (local.empty() || domain.empty() || domain.size() > kMaxDomainLength) return {};

  // The domain decides; only the suggestion's local part is the address's.
  const std::string_view written = text.substr(at + 1);
  const DomainTypo* known = memo != nullptr ? memo->find(written) : nullptr;
  DomainTypo fresh;
  if (known == nullptr) {
    fresh = typo_of_domain(domain, had_trailing_dot, lists);
    if (memo != nullptr) memo->remember(written, fresh);
    known = &fresh;
  }
  if (!known->has_typo) return {};
  return make_suggestion(local, known->domain, known->domain_typo);
}

TypoResult suggest_typo(std::string_view address, const Lists& lists) {
  return suggest_typo(address, lists, nullptr);
}

const DomainTypo* TypoMemo::find(std::string_view domain_as_written) const {
  key_.assign(domain_as_written);  // reused: no allocation per lookup
  const auto it = by_domain_.find(key_);
  return it == by_domain_.end() ? nullptr : &it->second;
}

void TypoMemo::remember(std::string_view domain_as_written, DomainTypo typo) {
  // Bounded: a list of a million domains starts over now and then.
  if (by_domain_.size() >= kMaxDomains) by_domain_.clear();
  by_domain_.emplace(std::string(domain_as_written), std::move(typo));
}

void TypoMemo::clear() { by_domain_.clear(); }

}  // namespace mailsentry
