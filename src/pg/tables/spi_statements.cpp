#include "tables/spi_statements.hpp"

namespace mailsentry::pg {

namespace {

// The statements whose plans are kept; a handful, all static.
constexpr int kMaxKept = 8;
KeptStatement* kept[kMaxKept];
int kept_count = 0;

SPIPlanPtr plan_of(KeptStatement& statement) {
  if (statement.plan != nullptr) return statement.plan;
  if (kept_count == kMaxKept)
    ereport(ERROR,
            (errcode(ERRCODE_INTERNAL_ERROR), errmsg("mailsentry: too many kept statements")));
  SPIPlanPtr fresh = SPI_prepare(statement.sql, statement.nargs, const_cast<Oid*>(statement.types));
  if (fresh == nullptr)
    ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("mailsentry: SPI_prepare failed: %s",
                                                            SPI_result_code_string(SPI_result))));
  if (SPI_keepplan(fresh) != 0)
    ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("mailsentry: SPI_keepplan failed")));
  statement.plan = fresh;
  kept[kept_count++] = &statement;
  return fresh;
}

}  // namespace

void execute_kept(KeptStatement& statement, Datum* values, const char* nulls) {
  const int rc = SPI_execute_plan(plan_of(statement), values, nulls, false, 0);
  if (rc != SPI_OK_INSERT && rc != SPI_OK_UPDATE)
    ereport(ERROR,
            (errcode(ERRCODE_INTERNAL_ERROR),
             errmsg("mailsentry: %s failed: %s", statement.what, SPI_result_code_string(rc))));
}

void forget_kept_statements() {
  for (int i = 0; i < kept_count; ++i) {
    SPI_freeplan(kept[i]->plan);
    kept[i]->plan = nullptr;
  }
  kept_count = 0;
}

}  // namespace mailsentry::pg
