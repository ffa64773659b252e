// Registration dates that arrived after the verdicts that wanted them: the
// worker writes each to mailsentry.domains, to the cache rows of the domain
// (which read only their own row), and to the verdicts and counts of running
// jobs that hold addresses there.
#pragma once

#include <vector>

#include "net/network_verifier.hpp"

namespace mailsentry::pg {

// Takes the engine's late dates (C++ side; call inside run_guarded()).
void collect_late_domain_ages(std::vector<LateDomainAge> late);
bool late_domain_ages_pending();
// Writes them; inside run_in_transaction() with SPI connected. May ereport.
void write_late_domain_ages();
// Forgets what was collected (after a failed transaction, or once written).
void clear_late_domain_ages();

}  // namespace mailsentry::pg
