#pragma once
// Where the gradient all-reduces run. On CUDA a bucket's all-reduce goes to a dedicated
// communication stream, so it runs while backward keeps computing on the compute stream:
//   compute stream:  ... grads of bucket b copied ─ record(e_b) ─ more backward ...  wait(f) ─ optimiser
//   comm stream:                         wait(e_b) ─ all-reduce b ─ divide ─ ...  record(f)
// The comm stream waits for the event recorded after the bucket's gradients are in place; the
// compute stream (the optimiser, the flags all-reduce, anything after finish()) waits for the
// comm stream once per step. On the CPU there are no streams: collectives run inline.
// The ordering is here, on primitive stream operations (CUDA in comm_streams_cuda.cpp, fakes in
// tests), so a CPU test checks it.
#include <functional>
#include <memory>

#include <torch/torch.h>

namespace vlmt {

enum class StreamRole { kCompute, kComm };

// Primitive operations on the two streams. "Compute" is the calling thread's current stream.
class StreamOps {
 public:
  virtual ~StreamOps() = default;
  // Records an event after the work enqueued so far on `stream`; returns its handle.
  virtual int record(StreamRole stream) = 0;
  // `stream` waits (on the device, not the host) for the event `event`.
  virtual void wait(StreamRole stream, int event) = 0;
  // Runs `work` with the comm stream as the current stream (its kernels are enqueued there).
  virtual void on_comm(const std::function<void()>& work) = 0;
};

class CommStreams {
 public:
  explicit CommStreams(std::unique_ptr<StreamOps> ops) : ops_(std::move(ops)) {}
  // Runs `collective` after the compute stream's work so far, on the comm stream (inline when
  // there are no streams).
  void run_collective(const std::function<void()>& collective);
  // The compute stream waits for everything run_collective issued since the last join.
  void join();
  bool has_streams() const { return ops_ != nullptr; }

 private:
  std::unique_ptr<StreamOps> ops_;  // null: no streams (CPU)
  bool issued_ = false;
};

// CUDA streams on a CUDA device (with VLMT_WITH_CUDA), null (inline) otherwise.
std::unique_ptr<StreamOps> make_stream_ops(torch::Device device);

}  // namespace vlmt
