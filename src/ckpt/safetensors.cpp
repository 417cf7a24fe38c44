#include "ckpt/safetensors.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"
#include "core/log.h"

namespace vlmt::ckpt {
namespace {

using nlohmann::json;

struct DtypeCode {
  const char* code;
  torch::ScalarType type;
};
const DtypeCode kCodes[] = {{"F32", torch::kFloat32}, {"F16", torch::kFloat16},
                            {"BF16", torch::kBFloat16}, {"F64", torch::kFloat64},
                            {"I64", torch::kInt64}};

// The header is untrusted input; cap it so a garbage length cannot trigger a huge allocation.
constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

torch::Tensor parse_entry(const std::string& name, const json& entry, const char* data,
                          uint64_t data_size, const std::string& where,
                          std::pair<uint64_t, uint64_t>& range) {
  if (!entry.is_object() || !entry.contains("dtype") || !entry.contains("shape") ||
      !entry.contains("data_offsets")) {
    throw CheckpointError(cat(where, ": entry needs dtype, shape and data_offsets"));
  }
  const std::string code = entry.at("dtype").get<std::string>();
  auto found = std::find_if(std::begin(kCodes), std::end(kCodes),
                            [&](const DtypeCode& d) { return code == d.code; });
  if (found == std::end(kCodes)) {
    throw CheckpointError(cat(where, ": unsupported dtype ", code, " (F32, F16, BF16, F64, I64)"));
  }
  std::vector<int64_t> shape;
  for (const auto& d : entry.at("shape")) {
    if (!d.is_number_unsigned()) throw CheckpointError(cat(where, ": shape must be non-negative integers"));
    shape.push_back(d.get<int64_t>());
  }
  const json& offsets = entry.at("data_offsets");
  if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
      !offsets[1].is_number_unsigned()) {
    throw CheckpointError(cat(where, ": data_offsets must be [begin, end]"));
  }
  uint64_t begin = offsets[0].get<uint64_t>(), end = offsets[1].get<uint64_t>();
  if (begin > end || end > data_size) {
    throw CheckpointError(cat(where, ": data_offsets [", begin, ", ", end, "] out of range (",
                              data_size, " data bytes; file truncated?)"));
  }
  torch::Tensor tensor = torch::empty(shape, torch::TensorOptions().dtype(found->type));
  uint64_t bytes = static_cast<uint64_t>(tensor.numel()) * tensor.element_size();
  if (bytes != end - begin) {
    throw CheckpointError(cat(where, ": shape ", tensor.sizes(), " ", code, " needs ", bytes,
                              " bytes but data_offsets span ", end - begin));
  }
  if (bytes > 0) std::memcpy(tensor.data_ptr(), data + begin, bytes);
  range = {begin, end};
  return tensor;
}

}  // namespace

SafetensorsFile parse_safetensors(const std::string& bytes, const std::string& source) {
  static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "safetensors data is little endian");
  if (bytes.size() < 8) {
    throw CheckpointError(cat(source, ": truncated safetensors file (", bytes.size(),
                              " bytes, no header length)"));
  }
  uint64_t header_size = 0;
  std::memcpy(&header_size, bytes.data(), 8);
  if (header_size > kMaxHeaderBytes || header_size > bytes.size() - 8) {
    throw CheckpointError(cat(source, ": safetensors header length ", header_size,
                              " exceeds the file (", bytes.size(), " bytes; truncated or not ",
                              "a safetensors file)"));
  }
  json header;
  try {
    header = json::parse(bytes.begin() + 8, bytes.begin() + 8 + header_size);
  } catch (const json::parse_error& e) {
    throw CheckpointError(cat(source, ": safetensors header is not valid JSON: ", e.what()));
  }
  if (!header.is_object()) throw CheckpointError(cat(source, ": safetensors header must be a JSON object"));
  const char* data = bytes.data() + 8 + header_size;
  const uint64_t data_size = bytes.size() - 8 - header_size;

  SafetensorsFile result;
  std::vector<std::pair<std::pair<uint64_t, uint64_t>, std::pair<std::string, torch::Tensor>>> entries;
  for (const auto& [name, entry] : header.items()) {
    std::string where = cat(source, ": tensor ", name);
    try {
      if (name == "__metadata__") {
        result.metadata = entry.get<std::map<std::string, std::string>>();
        continue;
      }
      std::pair<uint64_t, uint64_t> range;
      torch::Tensor t = parse_entry(name, entry, data, data_size, where, range);
      entries.push_back({range, {name, t}});
    } catch (const json::exception& e) {
      throw CheckpointError(cat(where, ": malformed header entry: ", e.what()));
    }
  }
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (size_t i = 1; i < entries.size(); ++i) {
    if (entries[i].first.first < entries[i - 1].first.second) {
      throw CheckpointError(cat(source, ": tensors ", entries[i - 1].second.first, " and ",
                                entries[i].second.first, " overlap"));
    }
  }
  for (auto& e : entries) result.tensors.push_back(std::move(e.second));
  return result;
}

SafetensorsFile read_safetensors(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CheckpointError(cat(path, ": cannot open safetensors file"));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return parse_safetensors(buffer.str(), path);
}

std::string serialize_safetensors(const NamedTensors& tensors,
                                  const std::map<std::string, std::string>& metadata) {
  json header = json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::string data;
  for (const auto& [name, tensor] : tensors) {
    torch::Tensor cpu = tensor.detach().to(torch::kCPU).contiguous();
    auto found = std::find_if(std::begin(kCodes), std::end(kCodes),
                              [&](const DtypeCode& d) { return cpu.scalar_type() == d.type; });
    if (found == std::end(kCodes)) {
      throw CheckpointError(cat("tensor ", name, ": dtype ", cpu.scalar_type(),
                                " has no supported safetensors code"));
    }
    size_t bytes = cpu.numel() * cpu.element_size();
    header[name] = {{"dtype", found->code},
                    {"shape", cpu.sizes().vec()},
                    {"data_offsets", {data.size(), data.size() + bytes}}};
    data.append(static_cast<const char*>(cpu.data_ptr()), bytes);
  }
  std::string text = header.dump();
  uint64_t n = text.size();
  std::string out(8, '\0');
  std::memcpy(out.data(), &n, 8);
  return out + text + data;
}

void write_safetensors(const std::string& path, const NamedTensors& tensors,
                       const std::map<std::string, std::string>& metadata) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  std::string bytes = serialize_safetensors(tensors, metadata);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw CheckpointError(cat(path, ": cannot write safetensors file"));
}

}  // namespace vlmt::ckpt
