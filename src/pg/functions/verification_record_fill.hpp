// Fills the plain-data record from a core Verification (C++ side only).
#pragma once

#include <string_view>

#include "functions/verification_record.hpp"
#include "verdict/verification.hpp"

namespace mailsentry::pg {

void fill_record(const Verification& v, std::string_view depth, VerificationRecord& out);

}  // namespace mailsentry::pg
