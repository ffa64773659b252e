#include "checks/role.hpp"

#include <array>

#include "checks/local_part.hpp"

namespace mailsentry {
namespace {

// The roles list detail is "system:<group>", "role:<group>" or "none:<why>".
// A user-added entry with any other detail (or none) counts as a role whose
// type is that detail, since adding an entry means "treat this as a role".
RoleResult result_from_detail(std::string_view detail) {
  constexpr std::string_view kSystem = "system:";
  constexpr std::string_view kRole = "role:";
  constexpr std::string_view kNone = "none:";
  RoleResult result;
  if (detail.substr(0, kNone.size()) == kNone || detail == "none") return result;
  if (detail.substr(0, kSystem.size()) == kSystem) {
    result.tier = RoleTier::system;
    result.role_type = std::string(detail.substr(kSystem.size()));
  } else if (detail.substr(0, kRole.size()) == kRole) {
    result.tier = RoleTier::role;
    result.role_type = std::string(detail.substr(kRole.size()));
  } else {
    result.tier = RoleTier::role;
    result.role_type = std::string(detail);
  }
  return result;
}

// Separator variants ("no_reply", "customer.service") are looked up without
// their separators, but only when every piece is 2+ characters and the joined
// form has 4+: "h.r" or "i.t" are a person's initials, not hr@ or it@.
bool separators_join_words(std::string_view lower, std::string_view compact) {
  if (compact.size() == lower.size() || compact.size() < 4) return false;
  std::size_t piece = 0;
  for (char c : lower) {
    if (is_local_separator(c)) {
      if (piece < 2) return false;
      piece = 0;
    } else {
      ++piece;
    }
  }
  return piece >= 2;
}

// Any local part carrying one of these words (after dropping separators) is
// a machine sender whatever else it says: "billing-noreply", "noreply.12345".
constexpr std::array<std::string_view, 3> kNoReplyWords = {"noreply", "donotreply", "donotrespond"};
// Bounce handlers put a token after the word (VERP: "bounce-123-user=x.org").
constexpr std::array<std::string_view, 2> kBounceWords = {"bounce", "bounces"};

// "sales2", "info-1": a numbered copy of a role mailbox. Two digits at most:
// a longer number ("admin1987") is more often a person's handle.
constexpr std::size_t kMaxRoleDigits = 2;

bool first_token_is_bounce(std::string_view lower) {
  std::size_t end = 0;
  while (end < lower.size() && !is_local_separator(lower[end])) ++end;
  if (end == lower.size()) return false;  // the whole local part is matched by the list
  const std::string_view first = lower.substr(0, end);
  for (auto word : kBounceWords)
    if (first == word) return true;
  return false;
}

}  // namespace

RoleResult classify_role(std::string_view local, const Lists& lists) {
  const LocalPartKey key(local);
  if (!key.ok()) return {};
  const std::string_view lower = key.lower();
  const std::string_view compact = key.compact();

  if (auto hit = lists.roles.find(lower); hit.found) return result_from_detail(hit.detail);
  if (separators_join_words(lower, compact)) {
    if (auto hit = lists.roles.find(compact); hit.found) return result_from_detail(hit.detail);
  }

  for (auto word : kNoReplyWords) {
    if (compact.find(word) != std::string_view::npos) {
      RoleResult result;
      result.tier = RoleTier::system;
      result.role_type = "noreply";
      return result;
    }
  }
  if (first_token_is_bounce(lower)) {
    RoleResult result;
    result.tier = RoleTier::system;
    result.role_type = "mail";
    return result;
  }

  // A numbered role mailbox counts only when the base is itself a role.
  const std::string_view numbered_lower = without_digit_suffix(lower, kMaxRoleDigits);
  if (numbered_lower.empty()) return {};
  const std::string_view numbered_compact = without_digit_suffix(compact, kMaxRoleDigits);
  auto hit = lists.roles.find(numbered_lower);
  if (!hit.found && separators_join_words(numbered_lower, numbered_compact)) {
    hit = lists.roles.find(numbered_compact);
  }
  if (hit.found) {
    RoleResult result = result_from_detail(hit.detail);
    if (result.is_role_based()) return result;
  }
  return {};
}

}  // namespace mailsentry
