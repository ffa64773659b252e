#include "checks/disposable.hpp"

namespace mailsentry {

bool is_disposable_domain(std::string_view ascii_domain, const Lists& lists) {
  // Address literals ("[192.0.2.1]") have no parent domains to match.
  if (ascii_domain.empty() || ascii_domain.front() == '[') return false;
  if (!find_domain_or_parent(lists.disposable, ascii_domain).found) return false;
  // The allowlist wins at any level: a provider's alias domains may sit under
  // a parent that is itself listed.
  return !find_domain_or_parent(lists.disposable_allowlist, ascii_domain).found;
}

}  // namespace mailsentry
