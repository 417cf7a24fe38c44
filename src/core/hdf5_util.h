#pragma once
// Thin RAII and attribute helpers over the HDF5 C API, shared by the checkpoint files (ckpt/)
// and the region-feature files (data/feature_writer.cpp: the float16 type). Every failure
// becomes a CheckpointError that names the file and object, never an HDF5 stack dump.
#include <hdf5.h>

#include <cstdint>
#include <string>
#include <vector>

namespace vlmt::h5 {

// Owns one HDF5 identifier and closes it with the matching H5?close.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle() = default;
  Handle(hid_t id, Closer closer) : id_(id), closer_(closer) {}
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  Handle(Handle&& other) noexcept { *this = std::move(other); }
  Handle& operator=(Handle&& other) noexcept;
  ~Handle() { reset(); }
  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  void reset();
  // Closes now and reports failure (a close that fails means data may not have reached disk).
  bool close();

 private:
  hid_t id_ = -1;
  Closer closer_ = nullptr;
};

// Silences HDF5's automatic error printing while alive; restores the previous handler after.
class QuietErrors {
 public:
  QuietErrors();
  ~QuietErrors();
  QuietErrors(const QuietErrors&) = delete;
  QuietErrors& operator=(const QuietErrors&) = delete;

 private:
  H5E_auto2_t func_ = nullptr;
  void* data_ = nullptr;
};

// Throws CheckpointError("<context>[: <errno text when a system call failed>]") when id < 0.
Handle check(hid_t id, Handle::Closer closer, const std::string& context);
void check_status(herr_t status, const std::string& context);

// Opens an existing file read-only; distinguishes a missing file, a non-HDF5 file and a damaged one.
Handle open_file_readonly(const std::string& path);
Handle create_file(const std::string& path);  // truncates
Handle create_group(hid_t parent, const std::string& name, const std::string& context);
Handle open_group(hid_t parent, const std::string& name, const std::string& context);
bool has_link(hid_t parent, const std::string& name);
std::vector<std::string> child_names(hid_t group, const std::string& context);  // creation order

// IEEE 754 binary16 (HDF5 1.10 has no predefined half type), laid out as h5py/numpy's float16 so
// that they read it back as such. Used by checkpoints and by the region feature files.
Handle make_half_type();

void write_string_attr(hid_t obj, const std::string& name, const std::string& value);
void write_int64_attr(hid_t obj, const std::string& name, const std::vector<int64_t>& values);
void write_uint32_attr(hid_t obj, const std::string& name, uint32_t value);
// Readers accept what h5py writes too (variable-length strings, any integer width).
std::string read_string_attr(hid_t obj, const std::string& name, const std::string& context);
std::vector<int64_t> read_int64_attr(hid_t obj, const std::string& name,
                                     const std::string& context);
uint32_t read_uint32_attr(hid_t obj, const std::string& name, const std::string& context);
bool has_attr(hid_t obj, const std::string& name);

// A 1-D dataset of variable-length UTF-8 strings (as h5py's string_dtype("utf-8") writes).
void write_string_list(hid_t parent, const std::string& name, const std::vector<std::string>& values,
                       const std::string& context);
// Reads variable- or fixed-length string datasets of rank 1.
std::vector<std::string> read_string_list(hid_t parent, const std::string& name, const std::string& context);

}  // namespace vlmt::h5
