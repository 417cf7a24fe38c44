#pragma once
// Where the rows of one 2-D dataset of a feature file lie in the file, so that they can be read
// with pread(2) — without the serial HDF5 library and its process-wide lock, from any number of
// threads, through the page cache that all ranks of a node share. Possible when the dataset is
// contiguous, or chunked by whole rows without filters (what the writers of tools/convert/ and
// data/feature_writer.cpp produce), and stored little-endian as the reader wants it; otherwise
// `direct()` is false and `why_not()` says why (the store then reads through HDF5).
#include <hdf5.h>

#include <cstdint>
#include <string>
#include <vector>

namespace vlmt {

class DatasetRows {
 public:
  DatasetRows() = default;
  // Rows that cannot be read directly, for the reason given.
  explicit DatasetRows(std::string why_not) : why_not_(std::move(why_not)) {}
  // Call with the HDF5 lock held. `userblock`: bytes before HDF5's base address in the file;
  // `elem_bytes`: the bytes of one element as the reader wants them (the file's must match,
  // which the caller has checked).
  DatasetRows(hid_t dataset, int64_t rows, int64_t cols, int64_t elem_bytes, uint64_t userblock);

  bool direct() const { return why_not_.empty(); }
  const std::string& why_not() const { return why_not_; }
  int64_t row_bytes() const { return cols_ * elem_bytes_; }
  // Reads rows [begin, begin + n) into `dest` (n · row_bytes() bytes). Only when direct().
  // Throws std::runtime_error with the system's reason on a failed or short read.
  void read(int fd, int64_t begin, int64_t n, void* dest) const;

 private:
  int64_t cols_ = 0, elem_bytes_ = 0;
  int64_t chunk_rows_ = 0;              // 0: contiguous, one extent at chunk_offsets_[0]
  std::vector<uint64_t> chunk_offsets_;  // file offset of each chunk of chunk_rows_ rows
  std::string why_not_ = "not set up";
};

}  // namespace vlmt
