// The score model: start at 100, fail fast on fatal findings, otherwise
// subtract stacking deductions; clamp to 0-100 and map to a verdict.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mailsentry {

// Points each finding costs. Names are the keys users override from SQL
// (mailsentry.weight_overrides); README documents each one.
struct Weights {
  int mailbox_missing = 75;
  int role_address = 45;
  int dead_domain = 100;
  int no_answer = 30;
  int disposable = 35;
  int gibberish_min = 35;
  int gibberish_max = 70;
  int smtp_inconclusive = 30;
  int smtp_inconclusive_no_mx = 10;
  int free_plus_alias = 30;
  int free_excessive_dots = 30;
  int toxic = 25;
  int garbled_identifier = 25;
  int spam_trap = 20;
  int suspicious_min = 15;
  int suspicious_max = 30;
  int young_domain = 15;
  int catch_all_min = 5;
  int catch_all_max = 35;
  int typo_domain_with_mx = 15;
  int unknown_suffix = 40;
  int valid_threshold = 90;
  int caution_threshold = 60;
  int risky_threshold = 30;

  struct Field {
    std::string_view name;
    int Weights::*member;
    std::string_view meaning;
  };
  static const std::vector<Field>& fields();
  // Sets the weight called `name`; false when there is none.
  bool set(std::string_view name, int points);
};

enum class Verdict { valid, caution, risky, invalid };
std::string_view verdict_name(Verdict verdict);
std::string_view recommendation_for(Verdict verdict);
Verdict verdict_for(int score, const Weights& weights);

// One line of the "issues" array: what cost points, and how many.
struct Deduction {
  std::string reason;
  int points = 0;  // 100 for a fail-fast finding
  enum class Kind {
    finding,
    // How the local part looks (gibberish, machine-made, keyboard walk), not
    // what a server said: a confirmed mailbox is not failed on these alone.
    local_part_heuristic,
    // A network check that got no answer: a failure that may pass never
    // makes an address 'invalid' by itself.
    no_answer,
  };
  Kind kind = Kind::finding;
  std::string text() const;
};

struct Assessment {
  int score = 100;
  Verdict verdict = Verdict::valid;
  std::vector<Deduction> deductions;
};

}  // namespace mailsentry
