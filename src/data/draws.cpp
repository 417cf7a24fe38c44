#include "data/draws.h"

#include <limits>

#include "core/error.h"
#include "core/log.h"

namespace vlmt {

double RngDraws::uniform() { return static_cast<double>(rng_() >> 11) * 0x1.0p-53; }

int64_t RngDraws::index(int64_t n) {
  if (n < 1) throw DataError(cat("a uniform index needs at least one choice, got n = ", n));
  const uint64_t m = static_cast<uint64_t>(n);
  const uint64_t limit = std::numeric_limits<uint64_t>::max() - std::numeric_limits<uint64_t>::max() % m;
  uint64_t x = rng_();
  while (x >= limit) x = rng_();
  return static_cast<int64_t>(x % m);
}

}  // namespace vlmt
