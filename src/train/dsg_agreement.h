#pragma once
// Makes every rank provably take the same Dynamic Stop-and-Go decision. In the released code
// each process scored the validation set itself and nothing tied the decisions together; here
// the caller all-reduces the validation sums first (so every rank feeds the same global score
// to its own DsgMonitor), then this collective broadcasts rank 0's resulting state and every
// rank compares it with its own, bit for bit. Any mismatch makes every rank throw, so no rank
// can continue alone and hang in the next collective.
#include <cstdint>
#include <string>

#include <torch/torch.h>

#include "train/dsg.h"

namespace vlmt {

class Communicator;

// DsgState <-> CPU int64 tensor of 6 values (`best` travels as its IEEE-754 bit pattern).
torch::Tensor pack_dsg_state(const DsgState& state);
DsgState unpack_dsg_state(const torch::Tensor& packed);

// Collective (uses only Communicator::broadcast and all_reduce on CPU int64 tensors). Returns
// rank 0's state when every rank agrees; otherwise throws vlmt::Error on every rank, the
// disagreeing rank naming both states.
DsgState agree_dsg_state(Communicator& comm, const std::string& task, int64_t iteration,
                         const DsgState& local);

}  // namespace vlmt
