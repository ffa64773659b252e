// Detectors for typed patterns rather than words: keyboard walks (qwerty,
// qazwsx, 1qaz2wsx), alphabet and number runs (abcdef, 123456) and
// repetitions (aaaaaa, abababab). Pure functions over lowercase ASCII.
#pragma once

#include <string_view>

namespace mailsentry {

// `alnum` holds only lowercase letters and digits (separators removed).
// True when walks and runs of at least three keys cover nearly all of it,
// looking at the whole string and at its letters and digits apart (so that
// "a1b2c3" and "123abc456" count as runs too).
bool is_keyboard_sequence(std::string_view alnum);

// True when `alnum` is one short unit repeated (aaaaa, ababab, hahaha,
// abcabcabc) or is dominated by a run of one character.
bool is_repetition(std::string_view alnum);

}  // namespace mailsentry
