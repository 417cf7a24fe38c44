#pragma once
// The random choices a dataset makes while it builds a batch — retrieval's negatives,
// pretraining's caption swap and masking — in the terms the released readers draw them: a number
// uniform in [0, 1) (Python's random.random()) or an index uniform in [0, n) (random.choice over
// n items, random.randint, np.random.randint). Datasets draw in the released order, so that the
// golden-batch test (tests/golden_batches) can replay the released code's recorded draws and
// compare every other tensor exactly; training draws from a generator seeded per batch.
#include <cstdint>
#include <random>

namespace vlmt {

class Draws {
 public:
  virtual ~Draws() = default;
  virtual double uniform() = 0;           // [0, 1)
  virtual int64_t index(int64_t n) = 0;   // [0, n), n >= 1
};

// Draws from a 64-bit Mersenne Twister: uniform() takes its top 53 bits, index() rejects the
// values above the last whole multiple of n (no modulo bias). Both are exact functions of the
// seed on every platform (std's distributions are implementation-defined).
class RngDraws final : public Draws {
 public:
  explicit RngDraws(uint64_t seed) : rng_(seed) {}
  double uniform() override;
  int64_t index(int64_t n) override;

 private:
  std::mt19937_64 rng_;
};

}  // namespace vlmt
