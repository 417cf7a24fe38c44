// bench_allreduce: all-reduce bandwidth across the ranks of a job, 1 KiB .. --max-mb MiB.
//   mpirun -n 2 bench_allreduce [--backend auto|mpi|nccl|local] [--max-mb 64] [--iters N]
// Prints per size the mean time (slowest rank) and the bus bandwidth 2(n-1)/n * bytes / time,
// the figure comparable across rank counts (the traffic one ring all-reduce puts on each link).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>

#include "core/cli.h"
#include "core/error.h"
#include "distributed/communicator.h"
#include "distributed/runtime.h"

namespace vlmt::dev::bench_allreduce {

namespace {

// Seconds per all-reduce on this rank, after warm-up.
double time_all_reduce(Communicator& comm, torch::Tensor& buffer, int iters) {
  for (int i = 0; i < 2; ++i) comm.all_reduce(buffer, ReduceOp::kSum);
  comm.barrier();
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < iters; ++i) comm.all_reduce(buffer, ReduceOp::kSum);
  comm.barrier();  // NCCL: also waits for the stream
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  return elapsed.count() / iters;
}

int bench(DistRuntime& runtime, int argc, char** argv) {
  const auto args = parse_cli(argc, argv, "bench_allreduce", "[--backend B] [--max-mb M] [--iters N]",
                              {cli_text("backend", "communicator (default auto)", {"auto", "mpi", "nccl", "local"}),
                               cli_number("max-mb", "largest message in MiB (default 64)", 0.001, 65536),
                               cli_integer("iters", "iterations per size (default: adaptive)", 1, 1e9)});
  const std::string backend = args.get("backend", "auto");
  const double max_mb = args.number("max-mb", 64);
  const int fixed_iters = static_cast<int>(args.integer("iters", 0));
  const torch::Device device = runtime.select_device(device_request_for_backend(backend), "--backend " + backend);
  auto comm = make_communicator(backend, runtime, device);
  const int n = comm->size();
  if (runtime.is_root()) {
    std::printf("# all-reduce float32, backend %s, %d ranks, device %s\n", comm->backend().c_str(),
                n, device.str().c_str());
    std::printf("%12s %8s %12s %12s %12s\n", "bytes", "iters", "time_us", "algbw_GB/s",
                "busbw_GB/s");
  }
  const auto max_bytes = static_cast<int64_t>(max_mb * 1024 * 1024);
  for (int64_t bytes = 1024; bytes <= max_bytes; bytes *= 2) {
    // About 256 MiB of traffic per size, between 5 and 200 iterations.
    const int iters = fixed_iters > 0 ? fixed_iters
                                      : static_cast<int>(std::clamp<int64_t>(
                                            (int64_t{256} << 20) / bytes, 5, 200));
    auto buffer = torch::ones({bytes / 4}, torch::TensorOptions().dtype(torch::kFloat32)
                                               .device(device));
    const double local = time_all_reduce(*comm, buffer, iters);
    const double seconds = comm->all_reduce_scalar(local, ReduceOp::kMax);
    const double algbw = bytes / seconds / 1e9;
    const double busbw = n > 1 ? algbw * 2.0 * (n - 1) / n : 0.0;
    if (runtime.is_root()) {
      std::printf("%12lld %8d %12.1f %12.3f %12.3f\n", static_cast<long long>(bytes), iters,
                  seconds * 1e6, algbw, busbw);
    }
  }
  return 0;
}

}  // namespace

int run(int argc, char** argv) {
  return vlmt::run_main(argc, argv, [&](vlmt::DistRuntime& runtime) {
    return bench(runtime, argc, argv);
  });
}

}  // namespace vlmt::dev::bench_allreduce
