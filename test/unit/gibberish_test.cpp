#include "checks/gibberish.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <cstdio>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "checks/keyboard.hpp"
#include "corpus.hpp"

namespace mailsentry {
namespace {

void expect_natural(std::string_view local) {
  GibberishResult result = assess_gibberish(local);
  EXPECT_FALSE(result.is_gibberish) << local << " score " << result.score << " " << result.pattern;
  EXPECT_GE(result.score, kGibberishScoreThreshold) << local;
  EXPECT_EQ(result.pattern, "") << local;
}

void expect_gibberish(std::string_view local, std::string_view pattern) {
  GibberishResult result = assess_gibberish(local);
  EXPECT_TRUE(result.is_gibberish) << local << " score " << result.score;
  EXPECT_LT(result.score, kGibberishScoreThreshold) << local;
  EXPECT_EQ(result.pattern, pattern) << local;
}

TEST(Gibberish, NamesWordsAndDigitsAreNatural) {
  for (const char* local : {"johnsmith1985", "musiclover2024", "j.smith", "mary_jones", "jean-luc",
                            "bob", "john.doe", "jsmith", "smithj", "tjmiller", "johnqpublic",
                            "maximilian.mueller", "basketballfan99", "mcgregor88", "bond007"})
    expect_natural(local);
}

TEST(Gibberish, CommonForeignNamesAreNatural) {
  // The model is trained on US given names and surnames, which include many
  // origins. (Some rarer spellings, e.g. "qiuyue" or "hrvoje", still score
  // low: a limitation of a letter model, see the README.)
  for (const char* local : {"zhangwei", "xiaoming", "wangfang", "nguyen.thuy", "priyanka",
                            "venkatesh", "szczepanski", "wojciech", "krzysztof", "chukwuemeka",
                            "siobhan", "svetlana.k", "jiri.dvorak", "takahashi", "jiwon.kim"})
    expect_natural(local);
}

TEST(Gibberish, ShortLocalPartsAreNotJudgedHarshly) {
  // Initials and acronyms are arbitrary letters; one block of up to three
  // letters is never called random.
  for (const char* local : {"jd", "al", "x", "xq", "sql", "api", "jrr", "jd1985", "k9"})
    expect_natural(local);
}

TEST(Gibberish, IssueExamplesOfGibberish) {
  expect_gibberish("asdkjfh38274", "random_characters");
  expect_gibberish("qwertyuiop", "keyboard_sequence");
  expect_gibberish("xq7z", "random_characters");
}

TEST(Gibberish, KeyboardSequences) {
  for (const char* local :
       {"qwertyuiop", "qwerty", "asdfgh", "asdfghjkl", "zxcvbnm", "qazwsx", "1qaz2wsx", "12345",
        "123456789", "987654", "abcdef", "qwerty2024", "a1b2c3", "123abc456", "asdf1234"})
    expect_gibberish(local, "keyboard_sequence");
}

TEST(Gibberish, WordsThatTraceShortWalksAreNotKeyboardSequences) {
  for (const char* local : {"polka", "redder", "swede", "ponder", "brews", "stuffed", "fredo"})
    expect_natural(local);
}

TEST(Gibberish, RepeatedCharacters) {
  for (const char* local : {"aaaaaa", "xxxxxx", "abababab", "hahahaha", "111111", "abcabcabc",
                            "zzzzzzjohn", "ththththth"})
    expect_gibberish(local, "repeated_chars");
}

TEST(Gibberish, RepeatedCharsIsOneCharacterOrOneRepeatedUnit) {
  // One character over the whole local part, or one unit typed again and
  // again, letters and digits alike.
  for (const char* local : {"aaaa", "zzzzzz", "0000", "abcabcabc", "xyxyxy", "a1a1a1", "1a1a1a",
                            "ab12ab12ab12", "xy.xy.xy"})
    expect_gibberish(local, "repeated_chars");
}

TEST(Gibberish, DigitRunAfterANameIsNotGibberish) {
  // A counter or a year after a name, even the same digit over and over.
  for (const char* local : {"user0000", "anna1987", "john2024", "anna0000", "bob1111", "mary.2000",
                            "user00000000", "jo_0000"})
    expect_natural(local);
}

TEST(Gibberish, AlphabetAndKeyboardRunsInEitherDirection) {
  for (const char* local : {"abcdef", "fedcba", "zyxwvu", "qwerty", "ytrewq", "asdfgh", "hgfdsa",
                            "mnbvcxz", "fedcba2024"})
    expect_gibberish(local, "keyboard_sequence");
}

TEST(Gibberish, MachineMadeIdentifiersAreCaught) {
  for (const char* local : {"x7k2p9q4", "k3j9x2m7", "q9w8z7v6"}) {
    const GibberishResult result = assess_gibberish(local);
    EXPECT_TRUE(result.is_gibberish) << local << " score " << result.score;
    EXPECT_NE(result.pattern, "repeated_chars") << local;
  }
  expect_gibberish("x7k2p9q4", "random_characters");
}

TEST(Gibberish, RandomCharacters) {
  for (const char* local : {"vzyrtq", "xkqjwv", "gdkgag", "zxqwvk12", "bvnqzt.rkxplm", "x7k2q9p4"})
    expect_gibberish(local, "random_characters");
}

TEST(Gibberish, PlusTagIsIgnored) {
  EXPECT_EQ(assess_gibberish("john.smith+xkqzvwpq").score, assess_gibberish("john.smith").score);
  expect_natural("john.smith+xkqzvwpq");
  expect_gibberish("xkqzvwpq+newsletter", "random_characters");
}

TEST(Gibberish, DigitRunsDoNotChangeTheScore) {
  // A year or a short number after a name is not evidence either way.
  for (const char* name : {"johnsmith", "mary", "musiclover"}) {
    int plain = assess_gibberish(name).score;
    for (const char* digits : {"1", "42", "1985", "2024", "12345678"})
      EXPECT_EQ(assess_gibberish(std::string(name) + digits).score, plain) << name << digits;
  }
}

TEST(Gibberish, SeparatorsSplitTokensAndCaseDoesNotMatter) {
  EXPECT_EQ(assess_gibberish("JohnSmith").score, assess_gibberish("johnsmith").score);
  EXPECT_EQ(assess_gibberish("mary_jones").score, assess_gibberish("mary.jones").score);
  EXPECT_EQ(assess_gibberish("mary-jones").score, assess_gibberish("mary.jones").score);
}

TEST(Gibberish, NonAsciiIsNeutral) {
  for (const char* local : {"\xD0\xB8\xD0\xB2\xD0\xB0\xD0\xBD",  // иван
                            "\xE7\x94\xA8\xE6\x88\xB7",          // 用户
                            "jos\xC3\xA9", "\xD0\xB8\xD0\xB2\xD0\xB0\xD0\xBD.xkqzvw"}) {
    GibberishResult result = assess_gibberish(local);
    EXPECT_FALSE(result.is_gibberish) << local;
    EXPECT_EQ(result.score, kNeutralGibberishScore) << local;
    EXPECT_EQ(result.pattern, "") << local;
  }
}

TEST(Gibberish, DigitsOnlyAreNeutralUnlessAPattern) {
  // Numeric mailboxes (QQ numbers, phone numbers) are common and legitimate.
  for (const char* local : {"5551234867", "84736291", "2024"}) {
    GibberishResult result = assess_gibberish(local);
    EXPECT_FALSE(result.is_gibberish) << local;
    EXPECT_EQ(result.score, kNeutralGibberishScore) << local;
  }
  expect_gibberish("123456", "keyboard_sequence");
  expect_gibberish("000000", "repeated_chars");
}

TEST(Gibberish, ScoreStaysInRangeOnOddInput) {
  std::string very_long(300, 'q');
  std::string long_name;
  for (int i = 0; i < 40; ++i) long_name += "johnsmith";
  for (std::string_view local : std::vector<std::string_view>{
           "", "+", "+tag", ".", "...", "\"john smith\"", "a!#$%&'*/=?^`{|}~", very_long, long_name,
           std::string_view("a\0b", 3)}) {
    GibberishResult result = assess_gibberish(local);
    EXPECT_GE(result.score, 0) << local;
    EXPECT_LE(result.score, 100) << local;
  }
  expect_gibberish(long_name, "repeated_chars");  // forty times the same name
  expect_natural("christopher.alexander.montgomery.wellington.fitzgerald");
  expect_natural("");
}

// Generic usernames: random-string-detector labels word + number usernames
// (user123, admin999, temp123, dev2024, usr1234, acc123) and "test123user"
// as random. For a mail local part they are natural, human-typed names: we
// flip them to "ok". Whether an address is a test or role account is the
// job of other checks (role.hpp, trap.hpp), not of the gibberish check.
TEST(Gibberish, GenericUsernamesAreNotGibberish) {
  for (const char* local : {"user123", "test456", "admin999", "guest789", "temp123", "demo567",
                            "user999", "acc123", "usr1234", "dev2024", "test123user"})
    expect_natural(local);
}

// The categories flipped from "gibberish" to "ok" (see above). Other
// "Mixed alphanumeric" rows (a1b2c3, 1a2b3c, 123abc456) keep their label.
const char* const kGenericUsernameCategories[] = {
    "Generic username",      "Test account",         "Admin account",
    "Guest account",         "Temporary account",    "Demo account",
    "Generic user pattern",  "Account abbreviation", "7 chars - abbreviated generic",
    "Short abbreviated form"};

bool is_generic_username_row(const test::CorpusRow& row) {
  if (row[0] == "test123user") return true;  // "Mixed alphanumeric", but word+number+word
  for (const char* category : kGenericUsernameCategories)
    if (row[2].find(std::string("):") + category) != std::string::npos) return true;
  return false;
}

// Rows that could be a mail local part: no whitespace, at most 64 octets,
// only RFC 5322 atext characters and dots. Drops the sentences ("is this
// thing working?", "hello world") and "nmnjcviburili,<>".
bool looks_like_local_part(std::string_view text) {
  if (text.empty() || text.size() > 64) return false;
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) ||
        std::string_view("!#$%&'*+-/=?^_`{|}~.").find(c) != std::string_view::npos)
      continue;
    return false;
  }
  return true;
}

TEST(Gibberish, CorpusAgreement) {
  std::vector<test::CorpusRow> rows = test::read_corpus("gibberish_cases.tsv");
  ASSERT_GT(rows.size(), 50u);
  int judged = 0, agreed = 0, agreed_as_labelled = 0;
  for (const test::CorpusRow& row : rows) {
    ASSERT_EQ(row.size(), 4u);
    if (!looks_like_local_part(row[0])) continue;
    bool labelled_gibberish = row[1] == "gibberish";
    bool expected_gibberish = labelled_gibberish && !is_generic_username_row(row);
    GibberishResult result = assess_gibberish(row[0]);
    ++judged;
    agreed += result.is_gibberish == expected_gibberish;
    agreed_as_labelled += result.is_gibberish == labelled_gibberish;
    if (result.is_gibberish != expected_gibberish)
      std::printf("  disagree: %-20s expected %-9s got score %d %s\n", row[0].c_str(),
                  expected_gibberish ? "gibberish" : "ok", result.score, result.pattern.c_str());
  }
  double agreement = 100.0 * agreed / judged;
  std::printf(
      "gibberish corpus: %d/%d local-part rows agree (%.1f%%); %.1f%% against the "
      "unflipped labels\n",
      agreed, judged, agreement, 100.0 * agreed_as_labelled / judged);
  EXPECT_GE(agreement, 80.0);
}

// The training lists themselves should hardly ever be called gibberish
// (in-sample, so this is a regression guard, not an accuracy figure).
double flagged_share(const std::string& path) {
  std::ifstream in(path);
  std::string word;
  int total = 0, flagged = 0;
  while (std::getline(in, word)) {
    ++total;
    flagged += assess_gibberish(word).is_gibberish;
  }
  return total == 0 ? 1.0 : static_cast<double>(flagged) / total;
}

TEST(Gibberish, TrainingListsAreRarelyFlagged) {
  double words = flagged_share(std::string(MAILSENTRY_SOURCE_DIR) + "/data/english_words.txt");
  double names = flagged_share(std::string(MAILSENTRY_SOURCE_DIR) + "/data/names.txt");
  std::printf("flagged: %.2f%% of English words, %.2f%% of names\n", 100 * words, 100 * names);
  EXPECT_LT(words, 0.01);
  EXPECT_LT(names, 0.02);
}

TEST(KeyboardDetectors, Basics) {
  EXPECT_TRUE(is_keyboard_sequence("qwerty"));
  EXPECT_TRUE(is_keyboard_sequence("tgbyhn"));
  EXPECT_FALSE(is_keyboard_sequence("john1985"));
  EXPECT_FALSE(is_keyboard_sequence("qwe"));
  EXPECT_TRUE(is_repetition("aaaa"));
  EXPECT_TRUE(is_repetition("ababab"));
  EXPECT_FALSE(is_repetition("anna"));
  EXPECT_FALSE(is_repetition("mississippi"));
  EXPECT_FALSE(is_repetition("john000"));
}

}  // namespace
}  // namespace mailsentry
