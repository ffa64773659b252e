// verify_email() called once per row of a large UPDATE or SELECT waits for
// each network answer in turn, where verify_emails() and mailsentry.submit()
// probe a set together. After kRowByRowNoticeAfter network verifications in
// one statement, one NOTICE says so, with a HINT naming both.
#pragma once

#include <cstddef>

namespace mailsentry::pg {

constexpr std::size_t kRowByRowNoticeAfter = 100;

// Counts `count` verifications of the current statement that went to the
// worker; raises the NOTICE when the count reaches kRowByRowNoticeAfter.
// PostgreSQL side.
void note_network_verifications(std::size_t count);

}  // namespace mailsentry::pg
