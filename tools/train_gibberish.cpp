// Build-time trainer for the gibberish check.
//
//   train_gibberish NAMES.txt WORDS.txt OUT.cpp
//
// Reads two word lists (one lowercase a-z word per line; other lines are
// skipped), counts character trigrams with a word-boundary symbol, smooths
// them (interpolated Witten-Bell, down to a uniform distribution) and writes
// OUT.cpp defining the arrays declared in src/core/checks/gibberish_model.hpp.
// The output depends only on the inputs: no clocks, no randomness, no
// unordered containers.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

namespace {

constexpr int kSymbols = 27;        // 0 = boundary, 1..26 = 'a'..'z'
constexpr double kWordShare = 0.1;  // of the training weight given to English words

using Counts3 = std::vector<double>;  // [a][b][c] flattened

int index3(int a, int b, int c) { return (a * kSymbols + b) * kSymbols + c; }

// Lowercase a-z words of the file; anything else (blank, accents, digits) is
// skipped rather than mangled so that the model only learns real spellings.
std::vector<std::string> read_words(const char* path) {
  std::ifstream in(path);
  if (!in) {
    std::cerr << "train_gibberish: cannot open " << path << "\n";
    std::exit(1);
  }
  std::vector<std::string> words;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    bool letters_only = !line.empty();
    for (char ch : line) letters_only = letters_only && ch >= 'a' && ch <= 'z';
    if (letters_only) words.push_back(line);
  }
  return words;
}

// The symbol sequence the model sees for a word: ^ ^ w1 .. wn $.
std::vector<int> symbols_of(const std::string& word) {
  std::vector<int> symbols = {0, 0};
  for (char ch : word) symbols.push_back(ch - 'a' + 1);
  symbols.push_back(0);
  return symbols;
}

struct Model {
  std::vector<double> log2_trigram = std::vector<double>(kSymbols * kSymbols * kSymbols);
  std::vector<double> log2_initial = std::vector<double>(kSymbols);
};

struct WeightedList {
  const std::vector<std::string>* words;
  double weight;
};

Model train(const std::vector<WeightedList>& lists) {
  Counts3 trigram(kSymbols * kSymbols * kSymbols, 0.0);
  std::vector<double> initial(kSymbols, 0.0);
  for (const WeightedList& list : lists) {
    for (const std::string& word : *list.words) {
      std::vector<int> s = symbols_of(word);
      for (std::size_t i = 2; i < s.size(); ++i)
        trigram[index3(s[i - 2], s[i - 1], s[i])] += list.weight;
      initial[s[2]] += list.weight;
    }
  }

  // Lower orders are marginals of the trigram counts.
  std::vector<double> bigram(kSymbols * kSymbols, 0.0), unigram(kSymbols, 0.0);
  for (int a = 0; a < kSymbols; ++a)
    for (int b = 0; b < kSymbols; ++b)
      for (int c = 0; c < kSymbols; ++c) {
        bigram[b * kSymbols + c] += trigram[index3(a, b, c)];
        unigram[c] += trigram[index3(a, b, c)];
      }

  double total = 0;
  for (double n : unigram) total += n;
  std::vector<double> p1(kSymbols);
  for (int c = 0; c < kSymbols; ++c) p1[c] = (unigram[c] + 1.0) / (total + kSymbols);

  // Witten-Bell: a context that was followed by many different symbols
  // leaves more room for unseen ones.
  auto witten_bell = [](const double* counts, const std::vector<double>& lower,
                        std::vector<double>& out) {
    double seen = 0, distinct = 0;
    for (int c = 0; c < kSymbols; ++c) {
      seen += counts[c];
      distinct += counts[c] > 0 ? 1 : 0;
    }
    for (int c = 0; c < kSymbols; ++c)
      out[c] = seen > 0 ? (counts[c] + distinct * lower[c]) / (seen + distinct) : lower[c];
  };

  Model model;
  std::vector<double> p2(kSymbols), p3(kSymbols);
  for (int b = 0; b < kSymbols; ++b) {
    witten_bell(&bigram[b * kSymbols], p1, p2);
    for (int a = 0; a < kSymbols; ++a) {
      witten_bell(&trigram[index3(a, b, 0)], p2, p3);
      for (int c = 0; c < kSymbols; ++c) model.log2_trigram[index3(a, b, c)] = std::log2(p3[c]);
    }
  }

  double starts = 0;
  for (int c = 1; c < kSymbols; ++c) starts += initial[c];
  for (int c = 1; c < kSymbols; ++c)
    model.log2_initial[c] = std::log2((initial[c] + 1.0) / (starts + kSymbols - 1));
  return model;
}

struct Calibration {
  double word_mean = 0, word_stddev = 0, initial_mean = 0;
};

// Mean and spread of the per-symbol log2 probability of the training words,
// the reference the scorer compares a local part with.
Calibration calibrate(const Model& model, const std::vector<WeightedList>& lists) {
  double weight_sum = 0, sum = 0, sum_sq = 0;
  std::vector<double> starts(kSymbols, 0.0);
  for (const WeightedList& list : lists) {
    for (const std::string& word : *list.words) {
      std::vector<int> s = symbols_of(word);
      double log2_prob = 0;
      for (std::size_t i = 2; i < s.size(); ++i)
        log2_prob += model.log2_trigram[index3(s[i - 2], s[i - 1], s[i])];
      double per_symbol = log2_prob / static_cast<double>(s.size() - 2);
      weight_sum += list.weight;
      sum += list.weight * per_symbol;
      sum_sq += list.weight * per_symbol * per_symbol;
      starts[s[2]] += list.weight;
    }
  }
  Calibration calibration;
  calibration.word_mean = sum / weight_sum;
  calibration.word_stddev =
      std::sqrt(std::max(0.0, sum_sq / weight_sum - calibration.word_mean * calibration.word_mean));
  for (int c = 1; c < kSymbols; ++c)
    calibration.initial_mean += starts[c] / weight_sum * model.log2_initial[c];
  return calibration;
}

void write_model(const char* path, const Model& model, const Calibration& calibration,
                 std::size_t name_count, std::size_t word_count) {
  std::FILE* out = std::fopen(path, "w");
  if (!out) {
    std::cerr << "train_gibberish: cannot write " << path << "\n";
    std::exit(1);
  }
  std::fprintf(out,
               "// Generated by tools/train_gibberish.cpp from %zu names and %zu English words.\n"
               "// Do not edit; the build regenerates it.\n"
               "#include \"checks/gibberish_model.hpp\"\n\n"
               "namespace mailsentry::gibberish_model {\n\n"
               "const float kTrigramLog2Prob[kSymbolCount][kSymbolCount][kSymbolCount] = {\n",
               name_count, word_count);
  for (int a = 0; a < kSymbols; ++a) {
    std::fprintf(out, "  {\n");
    for (int b = 0; b < kSymbols; ++b) {
      std::fprintf(out, "    {");
      for (int c = 0; c < kSymbols; ++c)
        std::fprintf(out, "%s%.4ff", c ? "," : "", model.log2_trigram[index3(a, b, c)]);
      std::fprintf(out, "},\n");
    }
    std::fprintf(out, "  },\n");
  }
  std::fprintf(out, "};\n\nconst float kInitialLog2Prob[kSymbolCount] = {0.0f");
  for (int c = 1; c < kSymbols; ++c) std::fprintf(out, ",%.4ff", model.log2_initial[c]);
  std::fprintf(out,
               "};\n\n"
               "const float kWordMeanLog2Prob = %.4ff;\n"
               "const float kWordStdDevLog2Prob = %.4ff;\n"
               "const float kInitialMeanLog2Prob = %.4ff;\n\n"
               "}  // namespace mailsentry::gibberish_model\n",
               calibration.word_mean, calibration.word_stddev, calibration.initial_mean);
  if (std::fclose(out) != 0) {
    std::cerr << "train_gibberish: error writing " << path << "\n";
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: train_gibberish NAMES.txt WORDS.txt OUT.cpp\n";
    return 2;
  }
  std::vector<std::string> names = read_words(argv[1]);
  std::vector<std::string> words = read_words(argv[2]);
  if (names.empty() || words.empty()) {
    std::cerr << "train_gibberish: empty training list\n";
    return 1;
  }
  // English words get a tenth of the total weight. Local parts are mostly
  // names, and the names list (US given names and surnames from many
  // origins) keeps foreign spellings such as "zhou" or "wojciech" from looking
  // random; the words still teach compound usernames (musiclover).
  double word_weight = kWordShare / (1.0 - kWordShare) * static_cast<double>(names.size()) /
                       static_cast<double>(words.size());
  std::vector<WeightedList> lists = {{&names, 1.0}, {&words, word_weight}};
  Model model = train(lists);
  write_model(argv[3], model, calibrate(model, lists), names.size(), words.size());
  return 0;
}
