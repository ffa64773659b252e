// Offline half of spam-trap detection: honeypot-like local parts and
// trap-pattern domains.
#pragma once

#include <string>

#include "checks/lists.hpp"
#include "checks/syntax.hpp"

namespace mailsentry {

struct TrapResult {
  bool is_potential_trap = false;
  std::string trap_type;  // "honeypot_local_part" | "trap_domain" | ... | ""
  int confidence = 0;     // 0-100
};

TrapResult assess_trap(const ParsedAddress& address, const Lists& lists);

}  // namespace mailsentry
