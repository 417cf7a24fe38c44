#pragma once
// TensorBoard event files (events.out.tfevents.*): a sequence of TFRecords, each
//   uint64 length | uint32 masked CRC-32C of the length | data | uint32 masked CRC-32C of data
// (little-endian; masked = ((crc >> 15) | (crc << 17)) + 0xa282ead8), whose data is one serialized
// tensorflow.Event protocol buffer. The first event of a file carries file_version
// "brain.Event:2"; the others a Summary of scalar values (tag, simple_value) at a step.
//
// Written here by hand, not with libprotobuf: the writer needs five fields of the wire format
// (Event.wall_time = 1 double, step = 2 int64, file_version = 3 string, summary = 5; Summary.value
// = 1; Value.tag = 1 string, simple_value = 2 float), which protoc-generated code would bring with
// a build step and a second protobuf runtime in the process beside the one LibTorch links. The
// CRC-32C is Boost.CRC's. tests/integration/tb_reader.py reads the files back with Google's
// protobuf parser and crcmod, independently of this code.
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

namespace vlmt::tfevents {

uint32_t crc32c(const void* data, size_t size);
// The masked CRC-32C TFRecord stores (a CRC of data that holds CRCs stays informative).
uint32_t masked_crc32c(const void* data, size_t size);

struct Scalar {
  std::string tag;
  float value;
};

// Serialized tensorflow.Event messages.
std::string file_version_event(double wall_time);
std::string scalars_event(double wall_time, int64_t step, const std::vector<Scalar>& scalars);
// `data` framed as one TFRecord.
std::string frame_record(const std::string& data);

// One whole, intact record of a file: its data and where it ends.
struct Record {
  std::string data;
  uint64_t end = 0;
};
struct FileScan {
  std::vector<Record> records;
  uint64_t intact_bytes = 0;  // up to the end of the last intact record
  uint64_t file_bytes = 0;
  std::string problem;        // why reading stopped before the end ("" = it did not)
};
// Reads the records of an event file up to its end or its first torn or corrupt record.
FileScan scan_event_file(const std::string& path);
// The step of a serialized Event (0 when it has none, as the file_version event).
int64_t event_step(const std::string& data);

// Cuts `path` after its last intact record whose step is <= `step` (events are written in step
// order), so that a run resumed from the checkpoint of iteration `step` appends its steps with
// none twice. A torn or corrupt tail (a crash mid-write) goes too. Returns the bytes removed.
uint64_t truncate_after_step(const std::string& path, int64_t step);

// Appends events to one file; a new (empty) file starts with the file_version event.
class EventFileWriter {
 public:
  // Throws vlmt::Error naming the path when the file cannot be opened.
  explicit EventFileWriter(std::string path);
  ~EventFileWriter();
  EventFileWriter(const EventFileWriter&) = delete;
  EventFileWriter& operator=(const EventFileWriter&) = delete;

  void write_scalars(int64_t step, double wall_time, const std::vector<Scalar>& scalars);
  // Makes everything written so far visible to a reader (a live TensorBoard).
  void flush();
  const std::string& path() const { return path_; }

 private:
  void write_record(const std::string& data);
  std::string path_;
  std::FILE* file_ = nullptr;
};

}  // namespace vlmt::tfevents
