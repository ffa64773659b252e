// Fills the plain-data record from a core Verification (C++ side only).
#pragma once

#include <string_view>

#include "verdict/verification.hpp"
#include "verdict/verification_record.hpp"

namespace mailsentry {

void fill_record(const Verification& v, std::string_view depth, VerificationRecord& out);

}  // namespace mailsentry
