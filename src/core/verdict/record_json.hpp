// The nested JSON form of a verification result (verify_email_json).
#pragma once

#include <string>
#include <string_view>

#include "verdict/verification_record.hpp"

namespace mailsentry {

// UTF-8 JSON text; the dates come formatted by PostgreSQL ("" for none).
// C++ only (no PostgreSQL calls).
std::string record_to_json(std::string_view email, const VerificationRecord& record,
                           std::string_view domain_created, std::string_view checked_at,
                           double response_time_ms);

}  // namespace mailsentry
