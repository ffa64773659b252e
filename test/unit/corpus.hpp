// Reads the test corpora in test/corpora/ (TSV with the escaping described
// in test/corpora/README.md) into rows of decoded fields.
#pragma once

#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace mailsentry::test {

inline void append_utf8(std::string& out, unsigned long cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// \\ \t \n \r \xNN \uNNNN \UNNNNNNNN; hex digits give a code point, not a byte.
inline std::string unescape_field(std::string_view field) {
  std::string out;
  for (std::size_t i = 0; i < field.size(); ++i) {
    char c = field[i];
    if (c != '\\' || i + 1 >= field.size()) {
      out += c;
      continue;
    }
    char kind = field[++i];
    switch (kind) {
      case '\\':
        out += '\\';
        break;
      case 't':
        out += '\t';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 'x':
      case 'u':
      case 'U': {
        std::size_t digits = kind == 'x' ? 2 : kind == 'u' ? 4 : 8;
        unsigned long cp = std::stoul(std::string(field.substr(i + 1, digits)), nullptr, 16);
        append_utf8(out, cp);
        i += digits;
        break;
      }
      default:
        throw std::runtime_error("unknown escape in corpus: " + std::string(field));
    }
  }
  return out;
}

using CorpusRow = std::vector<std::string>;

// All data rows (header skipped) of test/corpora/<name>, fields unescaped.
inline std::vector<CorpusRow> read_corpus(const std::string& name) {
  std::ifstream in(std::string(MAILSENTRY_SOURCE_DIR) + "/test/corpora/" + name);
  if (!in) throw std::runtime_error("cannot open corpus " + name);
  std::vector<CorpusRow> rows;
  std::string line;
  bool header = true;
  while (std::getline(in, line)) {
    if (header) {
      header = false;
      continue;
    }
    CorpusRow row;
    std::size_t start = 0;
    for (;;) {
      std::size_t tab = line.find('\t', start);
      row.push_back(unescape_field(std::string_view(line).substr(start, tab - start)));
      if (tab == std::string::npos) break;
      start = tab + 1;
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace mailsentry::test
