#include "core/event_file.h"

#include <boost/crc.hpp>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "core/log.h"

namespace vlmt::tfevents {
namespace {

// Protocol buffer wire types and the tags (field << 3 | wire type) of the fields written.
enum WireType : uint8_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };
constexpr uint8_t tag(int field, WireType type) { return static_cast<uint8_t>(field << 3 | type); }

void put_varint(std::string& out, uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>(value | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "TFRecord and protobuf fixed-width fields are little-endian");

template <class T>
void put_little_endian(std::string& out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  out.append(bytes, sizeof(T));
}

void put_bytes_field(std::string& out, int field, const std::string& bytes) {
  out.push_back(static_cast<char>(tag(field, kLengthDelimited)));
  put_varint(out, bytes.size());
  out += bytes;
}

// Event fields 1 (wall_time) and, when non-zero, 2 (step).
std::string event_head(double wall_time, int64_t step) {
  std::string event;
  event.push_back(static_cast<char>(tag(1, kFixed64)));
  put_little_endian(event, wall_time);
  if (step != 0) {
    event.push_back(static_cast<char>(tag(2, kVarint)));
    put_varint(event, static_cast<uint64_t>(step));
  }
  return event;
}

bool get_varint(const std::string& in, size_t& pos, uint64_t& value) {
  value = 0;
  for (int shift = 0; shift < 64 && pos < in.size(); shift += 7) {
    const auto byte = static_cast<uint8_t>(in[pos++]);
    value |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if (!(byte & 0x80)) return true;
  }
  return false;
}

uint64_t read_u64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

uint32_t read_u32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

}  // namespace

uint32_t crc32c(const void* data, size_t size) {
  // CRC-32C (Castagnoli): polynomial 0x1EDC6F41, reflected, initial and final xor 0xFFFFFFFF.
  boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true> crc;
  crc.process_bytes(data, size);
  return crc.checksum();
}

uint32_t masked_crc32c(const void* data, size_t size) {
  const uint32_t crc = crc32c(data, size);
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

std::string file_version_event(double wall_time) {
  std::string event = event_head(wall_time, 0);
  put_bytes_field(event, 3, "brain.Event:2");
  return event;
}

std::string scalars_event(double wall_time, int64_t step, const std::vector<Scalar>& scalars) {
  std::string summary;
  for (const auto& s : scalars) {
    std::string value;
    put_bytes_field(value, 1, s.tag);
    value.push_back(static_cast<char>(tag(2, kFixed32)));
    put_little_endian(value, s.value);
    put_bytes_field(summary, 1, value);
  }
  std::string event = event_head(wall_time, step);
  put_bytes_field(event, 5, summary);
  return event;
}

std::string frame_record(const std::string& data) {
  std::string record;
  record.reserve(data.size() + 16);
  put_little_endian(record, static_cast<uint64_t>(data.size()));
  put_little_endian(record, masked_crc32c(record.data(), sizeof(uint64_t)));
  record += data;
  put_little_endian(record, masked_crc32c(data.data(), data.size()));
  return record;
}

int64_t event_step(const std::string& data) {
  size_t pos = 0;
  while (pos < data.size()) {
    uint64_t key = 0, value = 0;
    if (!get_varint(data, pos, key)) break;
    switch (key & 7) {
      case kVarint:
        if (!get_varint(data, pos, value)) return 0;
        if (key >> 3 == 2) return static_cast<int64_t>(value);
        break;
      case kFixed64: pos += 8; break;
      case kFixed32: pos += 4; break;
      case kLengthDelimited:
        if (!get_varint(data, pos, value)) return 0;
        pos += value;
        break;
      default: return 0;  // groups: not in an Event
    }
  }
  return 0;
}

FileScan scan_event_file(const std::string& path) {
  FileScan scan;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    scan.problem = "cannot be read";
    return scan;
  }
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  scan.file_bytes = bytes.size();
  uint64_t pos = 0;
  while (pos < bytes.size()) {
    if (bytes.size() - pos < 12) {
      scan.problem = "torn record header";
      break;
    }
    const uint64_t length = read_u64(&bytes[pos]);
    if (read_u32(&bytes[pos + 8]) != masked_crc32c(&bytes[pos], 8)) {
      scan.problem = "length CRC mismatch";
      break;
    }
    if (bytes.size() - pos - 12 < length || bytes.size() - pos - 12 - length < 4) {
      scan.problem = "torn record";
      break;
    }
    Record record{bytes.substr(pos + 12, length), pos + 16 + length};
    if (read_u32(&bytes[pos + 12 + length]) != masked_crc32c(record.data.data(), length)) {
      scan.problem = "data CRC mismatch";
      break;
    }
    pos = record.end;
    scan.records.push_back(std::move(record));
  }
  scan.intact_bytes = pos;
  if (!scan.problem.empty()) scan.problem += cat(" at byte ", pos);
  return scan;
}

uint64_t truncate_after_step(const std::string& path, int64_t step) {
  const FileScan scan = scan_event_file(path);
  uint64_t keep = scan.intact_bytes;
  for (size_t i = 0; i < scan.records.size(); ++i) {
    if (event_step(scan.records[i].data) > step) {
      keep = i == 0 ? 0 : scan.records[i - 1].end;
      break;
    }
  }
  if (keep == scan.file_bytes) return 0;
  std::error_code error;
  std::filesystem::resize_file(path, keep, error);
  if (error) throw Error(ExitCode::kFailure, cat("cannot truncate ", path, ": ", error.message()));
  return scan.file_bytes - keep;
}

EventFileWriter::EventFileWriter(std::string path) : path_(std::move(path)) {
  std::error_code error;
  const bool empty = !std::filesystem::exists(path_) || std::filesystem::file_size(path_, error) == 0;
  file_ = std::fopen(path_.c_str(), "ab");
  if (file_ == nullptr)
    throw Error(ExitCode::kFailure, cat("cannot open ", path_, " for appending: ", std::strerror(errno)));
  if (empty) {
    using namespace std::chrono;
    write_record(file_version_event(duration<double>(system_clock::now().time_since_epoch()).count()));
    flush();
  }
}

EventFileWriter::~EventFileWriter() {
  if (file_ != nullptr) std::fclose(file_);
}

void EventFileWriter::write_record(const std::string& data) {
  const std::string record = frame_record(data);
  if (std::fwrite(record.data(), 1, record.size(), file_) != record.size())
    throw Error(ExitCode::kFailure, cat("cannot write to ", path_, ": ", std::strerror(errno)));
}

void EventFileWriter::write_scalars(int64_t step, double wall_time, const std::vector<Scalar>& scalars) {
  if (!scalars.empty()) write_record(scalars_event(wall_time, step, scalars));
}

void EventFileWriter::flush() {
  if (std::fflush(file_) != 0) throw Error(ExitCode::kFailure, cat("cannot write to ", path_, ": ", std::strerror(errno)));
}

}  // namespace vlmt::tfevents
