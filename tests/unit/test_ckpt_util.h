#pragma once
// Helpers shared by the checkpoint tests: a self-deleting temporary directory and byte-level
// damage to files (to prove that corruption is detected, not just that good files load).
#include <gtest/gtest.h>
#include <hdf5.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/error.h"

namespace vlmt::ckpt::test_util {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "vlmt_ckpt_XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  std::string str() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

// File offset of a contiguous dataset's data (e.g. "/params/w").
inline haddr_t dataset_offset(const std::string& file, const std::string& dataset) {
  hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  hid_t d = H5Dopen2(f, dataset.c_str(), H5P_DEFAULT);
  haddr_t offset = H5Dget_offset(d);
  H5Dclose(d);
  H5Fclose(f);
  return offset;
}

inline void xor_byte(const std::string& file, std::streamoff offset, unsigned char mask = 0xFF) {
  std::fstream io(file, std::ios::in | std::ios::out | std::ios::binary);
  io.seekg(offset);
  char c = 0;
  io.get(c);
  io.seekp(offset);
  io.put(static_cast<char>(c ^ mask));
  ASSERT_TRUE(io.good()) << "cannot modify " << file;
}

inline void truncate_to(const std::string& file, std::uintmax_t size) {
  std::filesystem::resize_file(file, size);
}

// Runs `fn` and returns the CheckpointError message (fails the test if nothing was thrown).
template <class Fn>
std::string checkpoint_error(Fn&& fn) {
  try {
    fn();
  } catch (const CheckpointError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a CheckpointError";
  return "";
}

}  // namespace vlmt::ckpt::test_util
