#include "ckpt/param_io.h"

#include <map>
#include <set>
#include <sstream>

#include "core/error.h"
#include "core/log.h"

namespace vlmt::ckpt {
namespace {

std::string shape_str(const std::vector<int64_t>& shape) {
  std::ostringstream out;
  out << "(";
  for (size_t i = 0; i < shape.size(); ++i) out << (i ? ", " : "") << shape[i];
  out << (shape.size() == 1 ? ",)" : ")");
  return out.str();
}

void list_names(std::ostringstream& out, const char* title, const std::vector<std::string>& names) {
  if (names.empty()) return;
  out << "\n  " << title << " (" << names.size() << "):";
  for (const auto& n : names) out << "\n    " << n;
}

}  // namespace

std::string LoadReport::summary() const {
  std::ostringstream out;
  out << "parameters from " << path << ": " << loaded.size() << " loaded, " << missing.size()
      << " missing, " << unexpected.size() << " unexpected, " << mismatched.size()
      << " mis-shaped, " << dropped.size() << " dropped";
  list_names(out, "missing (in model, not in file)", missing);
  list_names(out, "unexpected (in file, not in model)", unexpected);
  if (!mismatched.empty()) {
    out << "\n  mis-shaped (" << mismatched.size() << "):";
    for (const auto& m : mismatched) {
      out << "\n    " << m.name << ": model " << shape_str(m.module_shape) << ", file "
          << shape_str(m.file_shape);
    }
  }
  list_names(out, "dropped by the name map", dropped);
  return out.str();
}

NamedTensors module_tensors(const torch::nn::Module& module) {
  NamedTensors tensors;
  for (const auto& item : module.named_parameters(/*recurse=*/true)) {
    tensors.emplace_back(item.key(), item.value());
  }
  for (const auto& item : module.named_buffers(/*recurse=*/true)) {
    tensors.emplace_back(item.key(), item.value());
  }
  return tensors;
}

void save_parameters(const torch::nn::Module& module, const std::string& path) {
  write_tensors(path, module_tensors(module));
}

LoadReport load_parameters(torch::nn::Module& module, const NamedTensors& tensors,
                           const std::string& source, bool allow_partial, const NameMap& rename) {
  LoadReport report;
  report.path = source;
  std::map<std::string, torch::Tensor> targets;
  for (auto& [name, tensor] : module_tensors(module)) targets.emplace(name, tensor);

  std::map<std::string, torch::Tensor> found;  // module name -> file tensor
  for (const auto& [file_name, tensor] : tensors) {
    std::string name = rename ? rename(file_name) : file_name;
    if (name.empty()) {
      report.dropped.push_back(file_name);
      continue;
    }
    if (found.count(name)) {
      throw CheckpointError(cat(source, ": two tensors map to the name '", name, "' (second: '",
                                file_name, "')"));
    }
    found.emplace(name, tensor);
    if (!targets.count(name)) report.unexpected.push_back(name);
  }
  std::vector<std::pair<torch::Tensor, torch::Tensor>> copies;  // (destination, source)
  for (const auto& [name, target] : targets) {
    auto it = found.find(name);
    if (it == found.end()) {
      report.missing.push_back(name);
    } else if (it->second.sizes() != target.sizes()) {
      report.mismatched.push_back({name, target.sizes().vec(), it->second.sizes().vec()});
    } else {
      copies.emplace_back(target, it->second);
      report.loaded.push_back(name);
    }
  }
  if (!report.complete() && !allow_partial) throw CheckpointError(report.summary());
  {
    torch::NoGradGuard no_grad;
    for (auto& [destination, from] : copies) destination.copy_(from);
  }
  log::info0(report.summary());
  return report;
}

LoadReport load_parameters(torch::nn::Module& module, const std::string& path,
                           bool allow_partial, const NameMap& rename) {
  return load_parameters(module, read_tensors(path), path, allow_partial, rename);
}

}  // namespace vlmt::ckpt
