#include "checks/gibberish.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>

#include "checks/gibberish_model.hpp"
#include "checks/keyboard.hpp"

namespace mailsentry {
namespace {

namespace model = gibberish_model;

// Local parts are at most 64 octets (RFC 5321); longer input is judged on
// its first kMaxAnalyzed characters so the scan never allocates.
constexpr std::size_t kMaxAnalyzed = 128;

// Reading a token as several words costs nothing extra (each word already
// pays for its end and for a fresh start); reading a letter as an initial
// costs kInitialLog2Cost on top of the initial's own probability, so that
// random letters do not pass as a string of initials.
constexpr double kWordBreakLog2 = 0.0;
constexpr double kInitialLog2Cost = -2.0;

enum class CharClass { separator, letter, digit };

// Reads a local part once: feeds each letter run (a "token") through the
// trigram model and keeps the letters and digits, together and the letters
// alone, for the pattern detectors.
class LocalPartScan {
 public:
  explicit LocalPartScan(std::string_view base) {
    CharClass previous = CharClass::separator;
    for (char raw : base) {
      auto byte = static_cast<unsigned char>(raw);
      if (byte >= 0x80) {
        non_ascii_ = true;
        return;
      }
      char c = (byte >= 'A' && byte <= 'Z') ? static_cast<char>(byte - 'A' + 'a') : raw;
      CharClass current = (c >= 'a' && c <= 'z')   ? CharClass::letter
                          : (c >= '0' && c <= '9') ? CharClass::digit
                                                   : CharClass::separator;
      if (current == CharClass::letter) {
        add_letter(c);
        if (letters_length_ < kMaxAnalyzed) letters_[letters_length_++] = c;
      } else {
        end_token();
      }
      if (current != CharClass::separator) {
        if (previous != CharClass::separator && previous != current) ++letter_digit_switches_;
        if (alnum_length_ < kMaxAnalyzed) alnum_[alnum_length_++] = c;
        if (current == CharClass::digit) ++digit_count_;
      }
      previous = current;
    }
    end_token();
  }

  bool non_ascii() const { return non_ascii_; }
  std::size_t letter_count() const { return weighted_letters_; }
  std::size_t token_count() const { return token_count_; }
  std::size_t digit_count() const { return digit_count_; }
  std::size_t letter_digit_switches() const { return letter_digit_switches_; }
  std::string_view alnum() const { return {alnum_.data(), alnum_length_}; }
  std::string_view letters() const { return {letters_.data(), letters_length_}; }

  // How far the letters fall below a typical training word, in standard
  // deviations of the per-word average (0 = typical, negative = unusual).
  double deviation_z() const {
    if (weighted_letters_ == 0) return 0.0;
    return weighted_deviation_ / static_cast<double>(weighted_letters_) /
           model::kWordStdDevLog2Prob;
  }

 private:
  void add_letter(char c) {
    if (token_length_ < kMaxAnalyzed) token_[token_length_++] = c - 'a' + 1;
  }

  void end_token() {
    if (token_length_ == 0) return;
    double deviation =
        best_segmentation_log2(token_length_) / static_cast<double>(token_length_ + 1) -
        model::kWordMeanLog2Prob;
    weighted_deviation_ += deviation * static_cast<double>(token_length_);
    weighted_letters_ += token_length_;
    ++token_count_;
    token_length_ = 0;
  }

  // log2 probability of the token read as the likeliest run of words and
  // initials (kbenanti = k + benanti, johnqpublic = john + q + public,
  // musiclover = music + lover). A trigram's context only depends on whether
  // the current word has one letter or more, so a Viterbi pass over three
  // states per letter finds the best split in linear time.
  double best_segmentation_log2(std::size_t length) const {
    const auto& tri = model::kTrigramLog2Prob;
    constexpr int kB = model::kBoundary;
    constexpr double kImpossible = -1e30;
    double closed_before = 0.0;  // best score with a word ending before letter i
    double one_letter = kImpossible, longer = kImpossible;
    for (std::size_t i = 0; i < length; ++i) {
      const int c = token_[i];
      const int b = i >= 1 ? token_[i - 1] : kB;
      const int a = i >= 2 ? token_[i - 2] : kB;
      const double break_cost = i > 0 ? kWordBreakLog2 : 0.0;
      double next_longer = std::max(one_letter + tri[kB][b][c], longer + tri[a][b][c]);
      double next_one_letter = closed_before + break_cost + tri[kB][kB][c];
      double closed_here =
          std::max({next_longer + tri[b][c][kB], next_one_letter + tri[kB][c][kB],
                    closed_before + break_cost + model::kInitialLog2Prob[c] + kInitialLog2Cost});
      if (i == 0) next_longer = kImpossible;
      one_letter = next_one_letter;
      longer = next_longer;
      closed_before = closed_here;
    }
    return closed_before;
  }

  bool non_ascii_ = false;
  std::array<char, kMaxAnalyzed> alnum_{};
  std::size_t alnum_length_ = 0;
  std::size_t digit_count_ = 0;
  std::size_t letter_digit_switches_ = 0;
  std::array<char, kMaxAnalyzed> letters_{};
  std::size_t letters_length_ = 0;

  std::array<unsigned char, kMaxAnalyzed> token_{};
  std::size_t token_length_ = 0;
  double weighted_deviation_ = 0.0;
  std::size_t weighted_letters_ = 0;
  std::size_t token_count_ = 0;
};

// Letters and digits swapping places again and again (a1b2c3, x7k2q9) is
// how generated ids look; one or two swaps (john1985, test123user) are not.
constexpr std::size_t kFreeSwitches = 2;
constexpr double kSwitchPenaltyZ = 1.0;

// Score = 100 * logistic(kSlope * (z - kMidpointZ)): a typical word (z = 0)
// scores ~95, z = kMidpointZ scores 50 = kGibberishScoreThreshold.
constexpr double kMidpointZ = -2.5;
constexpr double kSlope = 1.2;

// A walk is only reported when its letters read as unnatural too (a milder
// bar than kMidpointZ: qwerty is made of common letters).
constexpr double kKeyboardWalkMaxZ = -2.0;

constexpr std::size_t kMaxShortLetters = 3;
constexpr double kShortLocalPartFloorZ = kMidpointZ + 0.5;

// The letters are one stretch of the alphabet, forwards or backwards
// (abcdef, fedcba). No name or word does that over five letters, so unlike a
// keyboard walk it needs no naturalness check, which "fedcba" (fed + cba)
// would pass.
constexpr std::size_t kMinAlphabetRun = 5;

bool is_alphabet_run(std::string_view letters) {
  if (letters.size() < kMinAlphabetRun) return false;
  const int step = letters[1] - letters[0];
  if (step != 1 && step != -1) return false;
  for (std::size_t i = 2; i < letters.size(); ++i)
    if (letters[i] - letters[i - 1] != step) return false;
  return true;
}

// The whole string is one unit typed again and again (xyxyxy, a1a1a1,
// abcabcabc), at least three times over at least four characters.
bool is_one_unit_repeated(std::string_view text) {
  if (text.size() < 4) return false;
  for (std::size_t unit = 1; unit * 3 <= text.size(); ++unit)
    if (text.substr(unit) == text.substr(0, text.size() - unit)) return true;
  return false;
}

// Held-down keys are looked for in the letters only: a number after a name
// (user0000, bob1111) is a counter or a year, not a key held down. Digits
// alone (000000, 00001) are judged as they are.
bool is_repeated_typing(const LocalPartScan& scan) {
  if (scan.letters().empty()) return is_repetition(scan.alnum());
  return is_one_unit_repeated(scan.alnum()) || is_repetition(scan.letters());
}

int score_from_z(double z) {
  double score = 100.0 / (1.0 + std::exp(-kSlope * (z - kMidpointZ)));
  return static_cast<int>(std::lround(std::clamp(score, 0.0, 100.0)));
}

}  // namespace

GibberishResult assess_gibberish(std::string_view local) {
  GibberishResult result;
  std::string_view base = local.substr(0, local.find('+'));
  LocalPartScan scan(base);

  // The model knows Latin letters only; other scripts are not evidence.
  if (scan.non_ascii()) {
    result.score = kNeutralGibberishScore;
    return result;
  }

  std::string_view alnum = scan.alnum();
  const double letters_z = scan.deviation_z();
  const char* pattern = nullptr;
  if (is_repeated_typing(scan)) {
    pattern = "repeated_chars";
  } else if (is_alphabet_run(scan.letters()) ||
             ((letters_z < kKeyboardWalkMaxZ || scan.digit_count() >= scan.letter_count()) &&
              is_keyboard_sequence(alnum))) {
    // Letters must also read as unnatural: some words trace short walks
    // (polka, redder, swede). Number runs (123456, a1b2c3) need no such check.
    pattern = "keyboard_sequence";
  }
  if (pattern != nullptr) {
    result.is_gibberish = true;
    result.pattern = pattern;
    result.score = std::min(score_from_z(letters_z), kPatternScoreCap);
    return result;
  }

  // Numbers alone (QQ-style numeric mailboxes, phone numbers) say nothing
  // about naturalness.
  if (scan.letter_count() == 0) {
    result.score = kNeutralGibberishScore;
    return result;
  }

  double z = letters_z;
  // One block of three letters or fewer is too little to judge: initials and
  // acronyms (jd, sql, api, jd1985) are arbitrary letter pairs and triples.
  // Several such blocks (xq7z) are judged as usual.
  if (scan.letter_count() <= kMaxShortLetters && scan.token_count() == 1)
    z = std::max(z, kShortLocalPartFloorZ);
  if (scan.letter_digit_switches() > kFreeSwitches)
    z -= kSwitchPenaltyZ * static_cast<double>(scan.letter_digit_switches() - kFreeSwitches);
  result.score = score_from_z(z);
  if (result.score < kGibberishScoreThreshold) {
    result.is_gibberish = true;
    result.pattern = "random_characters";
  }
  return result;
}

}  // namespace mailsentry
