// Characters an address may never contain, wherever they stand: controls,
// line breaks, invalid UTF-8, and code points that are invisible or make an
// address look like something it is not.
#pragma once

#include <string>
#include <string_view>

namespace mailsentry {

// Invisible, spacing, bidi, private-use and noncharacter code points.
bool is_unsafe_code_point(char32_t cp);

// One pass over the whole input. Returns an error, or "" if every character
// may appear somewhere in an address; sets `has_non_ascii`.
std::string find_forbidden_character(std::string_view input, bool& has_non_ascii);

}  // namespace mailsentry
