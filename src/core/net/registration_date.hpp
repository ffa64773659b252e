// Date arithmetic and the loose date formats that RDAP and WHOIS servers use
// for a domain's registration date. The two parsers of whole responses,
// rdap_registration_days() and whois_creation_days(), are declared in
// domain_age.hpp and defined in registration_date.cpp.
#pragma once

#include <optional>
#include <string_view>

namespace mailsentry {

// Days since 1970-01-01 of a proleptic Gregorian date; nullopt when the date
// does not exist (2001-02-29) or lies outside 1970..2999.
std::optional<int> days_since_epoch(int year, int month, int day);

// RFC 3339 / ISO 8601 date with optional time and offset ("2019-03-04",
// "2019-03-04T12:00:00Z", "2019-03-04T00:30:00+02:00"), converted to the UTC
// day. Anything after the recognised part is ignored.
std::optional<int> parse_iso_date_days(std::string_view text);

// The unambiguous date spellings seen in WHOIS answers: ISO (above),
// 2001.01.31, 2001/01/31, "2001. 01. 31.", 20010131, 31-Jan-2001,
// 31.01.2001 (day first, as written in Europe) and Java's
// "Wed Jan 31 12:00:00 GMT 2001". Slash dates with the day or month first
// (01/02/2001) are ambiguous and rejected.
std::optional<int> parse_loose_date_days(std::string_view text);

}  // namespace mailsentry
