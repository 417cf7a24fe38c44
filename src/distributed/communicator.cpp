#include "distributed/communicator.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "core/log.h"
#include "distributed/local_communicator.h"
#include "distributed/mpi_communicator.h"
#include "distributed/nccl_communicator.h"
#include "distributed/runtime.h"

namespace vlmt {

double Communicator::all_reduce_scalar(double value, ReduceOp op) {
  return all_reduce_vector({value}, op)[0];
}

std::vector<double> Communicator::all_reduce_vector(std::vector<double> values, ReduceOp op) {
  if (values.empty()) return values;
  auto tensor = torch::tensor(values, torch::kFloat64).to(device());
  all_reduce(tensor, op);
  tensor = tensor.cpu();
  const double* data = tensor.data_ptr<double>();
  return std::vector<double>(data, data + values.size());
}

std::string Communicator::broadcast_string(const std::string& value, int root) {
  auto length = torch::tensor({static_cast<int64_t>(value.size())}, torch::kInt64).to(device());
  broadcast(length, root);
  const int64_t n = length.cpu().item<int64_t>();
  if (n == 0) return std::string();
  auto bytes = torch::empty({n}, torch::kUInt8);
  if (rank() == root) std::memcpy(bytes.data_ptr<uint8_t>(), value.data(), value.size());
  bytes = bytes.to(device());
  broadcast(bytes, root);
  bytes = bytes.cpu();
  return std::string(reinterpret_cast<const char*>(bytes.data_ptr<uint8_t>()), n);
}

const std::vector<std::string>& communicator_backend_names() {
  static const std::vector<std::string> names = {"auto", "mpi", "nccl", "local"};
  return names;
}

void check_backend_name(const std::string& backend) {
  const auto& names = communicator_backend_names();
  if (std::find(names.begin(), names.end(), backend) == names.end())
    throw ConfigError(not_one_of(backend, names));
}

std::unique_ptr<Communicator> make_communicator(const std::string& backend, DistRuntime& runtime,
                                                torch::Device device) {
  try {
    check_backend_name(backend);
  } catch (const ConfigError& e) {
    throw ConfigError(cat("dist.backend: ", e.what()));
  }
  std::string chosen = backend;
  if (chosen == "auto") {
    chosen = runtime.size() == 1 ? "local" : device.is_cuda() ? "nccl" : "mpi";
  }
  if (chosen == "local") {
    if (runtime.size() != 1) {
      throw ConfigError(cat("dist.backend = \"local\" needs a single rank, but the job has ",
                            runtime.size(), " ranks"));
    }
    return std::make_unique<LocalCommunicator>(device);
  }
  if (chosen == "mpi") {
    if (!device.is_cpu()) {
      throw ConfigError(cat("dist.backend = \"mpi\" reduces CPU tensors only, but the device is ",
                            device.str(), "; use \"nccl\" or \"auto\""));
    }
    return std::make_unique<MpiCommunicator>(runtime.world(), runtime.thread_level());
  }
  // "nccl", the one name left after check_backend_name.
  if (!device.is_cuda()) {
    throw ConfigError(cat("dist.backend = \"nccl\" needs a CUDA device, got ", device.str()));
  }
#ifdef VLMT_WITH_CUDA
  return make_nccl_communicator(runtime, device);
#else
  throw ConfigError("dist.backend = \"nccl\" needs a build with -DVLMT_WITH_CUDA=ON");
#endif
}

}  // namespace vlmt
