// The character model behind the gibberish check. The arrays are defined in a
// source file that tools/train_gibberish.cpp writes at build time from
// data/names.txt and data/english_words.txt; nothing here is checked in data.
#pragma once

namespace mailsentry::gibberish_model {

// Symbol 0 is the word boundary (before the first and after the last letter),
// symbols 1..26 are 'a'..'z'.
inline constexpr int kSymbolCount = 27;
inline constexpr int kBoundary = 0;

// log2 P(c | a b) for a trigram a b c, smoothed (interpolated Witten-Bell down
// to a uniform distribution) so that every entry is finite.
extern const float kTrigramLog2Prob[kSymbolCount][kSymbolCount][kSymbolCount];

// log2 P(first letter = c), used to judge initials such as "jd" where the
// trigram model would only see an unlikely two-letter word. Index 0 unused.
extern const float kInitialLog2Prob[kSymbolCount];

// Per-symbol log2 probability averaged over the training words (one value
// per word, then the mean and standard deviation over words), and the mean
// of kInitialLog2Prob weighted by how often each letter starts a word. The
// scorer measures a local part against these, so a retrained model keeps
// its calibration.
extern const float kWordMeanLog2Prob;
extern const float kWordStdDevLog2Prob;
extern const float kInitialMeanLog2Prob;

}  // namespace mailsentry::gibberish_model
