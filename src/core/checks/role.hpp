// Role-based local parts, in two tiers: system addresses and role addresses.
#pragma once

#include <string>
#include <string_view>

#include "checks/lists.hpp"

namespace mailsentry {

enum class RoleTier { none, role, system };

struct RoleResult {
  RoleTier tier = RoleTier::none;
  // The group from data/roles.tsv; "" when none. System tier: "noreply", "mail",
  // "abuse", "infrastructure", "mailing_list", "notification". Role tier:
  // "general", "sales", "support", "marketing", "billing", "hr", "technical", ...
  std::string role_type;
  bool is_role_based() const { return tier != RoleTier::none; }
};

// `local` is the local part as parsed (without the +tag handling: the
// function strips a +tag and separators itself).
RoleResult classify_role(std::string_view local, const Lists& lists);

}  // namespace mailsentry
