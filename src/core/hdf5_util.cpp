#include "core/hdf5_util.h"

#include <sys/stat.h>

#include <cstring>

#include "core/error.h"
#include "core/log.h"

namespace vlmt::h5 {

Handle& Handle::operator=(Handle&& other) noexcept {
  if (this != &other) {
    reset();
    id_ = other.id_;
    closer_ = other.closer_;
    other.id_ = -1;
  }
  return *this;
}

void Handle::reset() { close(); }

bool Handle::close() {
  bool ok = true;
  if (id_ >= 0 && closer_ != nullptr) ok = closer_(id_) >= 0;
  id_ = -1;
  return ok;
}

QuietErrors::QuietErrors() {
  H5Eget_auto2(H5E_DEFAULT, &func_, &data_);
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

QuietErrors::~QuietErrors() { H5Eset_auto2(H5E_DEFAULT, func_, data_); }

namespace {

// The operating system's reason for the HDF5 failure just reported, if a system call failed:
// HDF5's file driver records it in its error stack as "... error message = '<strerror>' ..."
// (e.g. "No space left on device"). Empty when the failure was HDF5's own.
std::string system_reason() {
  std::string reason;
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_DOWNWARD,
      [](unsigned, const H5E_error2_t* e, void* out) -> herr_t {
        static const std::string kMarker = "error message = '";
        const std::string desc = e->desc != nullptr ? e->desc : "";
        const size_t from = desc.find(kMarker);
        if (from == std::string::npos) return 0;
        const size_t begin = from + kMarker.size(), end = desc.find('\'', begin);
        *static_cast<std::string*>(out) = desc.substr(begin, end == std::string::npos ? end : end - begin);
        return 1;  // the innermost one: stop
      },
      &reason);
  return reason;
}

[[noreturn]] void fail(const std::string& context) {
  const std::string reason = system_reason();
  throw CheckpointError(reason.empty() ? context : cat(context, ": ", reason));
}

}  // namespace

Handle check(hid_t id, Handle::Closer closer, const std::string& context) {
  if (id < 0) fail(context);
  return Handle(id, closer);
}

void check_status(herr_t status, const std::string& context) {
  if (status < 0) fail(context);
}

Handle open_file_readonly(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw CheckpointError(cat(path, ": no such file"));
  QuietErrors quiet;
  htri_t is_hdf5 = H5Fis_hdf5(path.c_str());
  if (is_hdf5 <= 0) {
    throw CheckpointError(cat(path, ": not an HDF5 file (", st.st_size, " bytes; wrong path, or "
                              "a write that was killed before the header was written)"));
  }
  hid_t id = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (id < 0) {
    throw CheckpointError(cat(path, ": HDF5 file cannot be opened (truncated or damaged, ",
                              st.st_size, " bytes on disk)"));
  }
  return Handle(id, H5Fclose);
}

Handle create_file(const std::string& path) {
  QuietErrors quiet;
  // Track creation order so that tensors come back in the order they were written.
  Handle fcpl = check(H5Pcreate(H5P_FILE_CREATE), H5Pclose, "H5Pcreate");
  H5Pset_link_creation_order(fcpl.get(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED);
  return check(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, fcpl.get(), H5P_DEFAULT), H5Fclose,
               cat(path, ": cannot create HDF5 file (directory missing or not writable?)"));
}

Handle create_group(hid_t parent, const std::string& name, const std::string& context) {
  QuietErrors quiet;
  Handle gcpl = check(H5Pcreate(H5P_GROUP_CREATE), H5Pclose, "H5Pcreate");
  H5Pset_link_creation_order(gcpl.get(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED);
  return check(H5Gcreate2(parent, name.c_str(), H5P_DEFAULT, gcpl.get(), H5P_DEFAULT), H5Gclose,
               cat(context, ": cannot create group ", name));
}

Handle open_group(hid_t parent, const std::string& name, const std::string& context) {
  QuietErrors quiet;
  if (!has_link(parent, name)) throw CheckpointError(cat(context, ": missing group ", name));
  return check(H5Gopen2(parent, name.c_str(), H5P_DEFAULT), H5Gclose,
               cat(context, ": cannot open group ", name));
}

bool has_link(hid_t parent, const std::string& name) {
  QuietErrors quiet;
  return H5Lexists(parent, name.c_str(), H5P_DEFAULT) > 0;
}

namespace {
struct NameCollector {
  std::vector<std::string> names;
};
herr_t collect_name(hid_t, const char* name, const H5L_info_t*, void* data) {
  static_cast<NameCollector*>(data)->names.emplace_back(name);
  return 0;
}
}  // namespace

std::vector<std::string> child_names(hid_t group, const std::string& context) {
  QuietErrors quiet;
  NameCollector collector;
  hsize_t index = 0;
  // Files written by h5py do not track creation order; fall back to name order for those.
  herr_t status = H5Literate(group, H5_INDEX_CRT_ORDER, H5_ITER_INC, &index, collect_name,
                             &collector);
  if (status < 0) {
    collector.names.clear();
    index = 0;
    status = H5Literate(group, H5_INDEX_NAME, H5_ITER_INC, &index, collect_name, &collector);
  }
  check_status(status, cat(context, ": cannot list group members"));
  return collector.names;
}

Handle make_half_type() {
  hid_t t = H5Tcopy(H5T_IEEE_F32LE);
  H5Tset_fields(t, 15, 10, 5, 0, 10);
  H5Tset_precision(t, 16);
  H5Tset_size(t, 2);
  H5Tset_ebias(t, 15);
  return Handle(t, H5Tclose);
}

void write_string_attr(hid_t obj, const std::string& name, const std::string& value) {
  QuietErrors quiet;
  Handle type = check(H5Tcopy(H5T_C_S1), H5Tclose, "H5Tcopy");
  H5Tset_size(type.get(), value.empty() ? 1 : value.size());
  H5Tset_strpad(type.get(), H5T_STR_NULLPAD);
  H5Tset_cset(type.get(), H5T_CSET_UTF8);
  Handle space = check(H5Screate(H5S_SCALAR), H5Sclose, "H5Screate");
  Handle attr = check(H5Acreate2(obj, name.c_str(), type.get(), space.get(), H5P_DEFAULT,
                                 H5P_DEFAULT),
                      H5Aclose, cat("cannot create attribute ", name));
  std::string padded = value.empty() ? std::string(1, '\0') : value;
  check_status(H5Awrite(attr.get(), type.get(), padded.data()), cat("cannot write attribute ", name));
}

void write_int64_attr(hid_t obj, const std::string& name, const std::vector<int64_t>& values) {
  QuietErrors quiet;
  hsize_t n = values.size();
  // A zero-length simple dataspace stores the empty shape of a 0-dim tensor.
  Handle space = check(H5Screate_simple(1, &n, nullptr), H5Sclose, "H5Screate_simple");
  Handle attr = check(H5Acreate2(obj, name.c_str(), H5T_STD_I64LE, space.get(), H5P_DEFAULT,
                                 H5P_DEFAULT),
                      H5Aclose, cat("cannot create attribute ", name));
  if (n > 0) {
    check_status(H5Awrite(attr.get(), H5T_NATIVE_INT64, values.data()),
                 cat("cannot write attribute ", name));
  }
}

void write_uint32_attr(hid_t obj, const std::string& name, uint32_t value) {
  QuietErrors quiet;
  Handle space = check(H5Screate(H5S_SCALAR), H5Sclose, "H5Screate");
  Handle attr = check(H5Acreate2(obj, name.c_str(), H5T_STD_U32LE, space.get(), H5P_DEFAULT,
                                 H5P_DEFAULT),
                      H5Aclose, cat("cannot create attribute ", name));
  check_status(H5Awrite(attr.get(), H5T_NATIVE_UINT32, &value), cat("cannot write attribute ", name));
}

bool has_attr(hid_t obj, const std::string& name) {
  QuietErrors quiet;
  return H5Aexists(obj, name.c_str()) > 0;
}

namespace {
Handle open_attr(hid_t obj, const std::string& name, const std::string& context) {
  if (!has_attr(obj, name)) throw CheckpointError(cat(context, ": missing attribute '", name, "'"));
  return check(H5Aopen(obj, name.c_str(), H5P_DEFAULT), H5Aclose,
               cat(context, ": cannot open attribute '", name, "'"));
}
}  // namespace

std::string read_string_attr(hid_t obj, const std::string& name, const std::string& context) {
  QuietErrors quiet;
  Handle attr = open_attr(obj, name, context);
  Handle type = check(H5Aget_type(attr.get()), H5Tclose, context);
  if (H5Tget_class(type.get()) != H5T_STRING) {
    throw CheckpointError(cat(context, ": attribute '", name, "' is not a string"));
  }
  std::string bad = cat(context, ": cannot read attribute '", name, "'");
  if (H5Tis_variable_str(type.get()) > 0) {
    Handle mem = check(H5Tcopy(H5T_C_S1), H5Tclose, bad);
    H5Tset_size(mem.get(), H5T_VARIABLE);
    H5Tset_cset(mem.get(), H5Tget_cset(type.get()));
    char* raw = nullptr;
    check_status(H5Aread(attr.get(), mem.get(), &raw), bad);
    std::string value = raw != nullptr ? raw : "";
    H5free_memory(raw);
    return value;
  }
  size_t size = H5Tget_size(type.get());
  std::string value(size, '\0');
  check_status(H5Aread(attr.get(), type.get(), value.data()), bad);
  value.resize(value.find('\0') == std::string::npos ? size : value.find('\0'));
  return value;
}

std::vector<int64_t> read_int64_attr(hid_t obj, const std::string& name,
                                     const std::string& context) {
  QuietErrors quiet;
  Handle attr = open_attr(obj, name, context);
  Handle space = check(H5Aget_space(attr.get()), H5Sclose, context);
  hssize_t n = H5Sget_simple_extent_npoints(space.get());
  std::vector<int64_t> values(n > 0 ? static_cast<size_t>(n) : 0);
  if (!values.empty()) {
    check_status(H5Aread(attr.get(), H5T_NATIVE_INT64, values.data()),
                 cat(context, ": cannot read attribute '", name, "' as integers"));
  }
  return values;
}

uint32_t read_uint32_attr(hid_t obj, const std::string& name, const std::string& context) {
  QuietErrors quiet;
  Handle attr = open_attr(obj, name, context);
  uint32_t value = 0;
  check_status(H5Aread(attr.get(), H5T_NATIVE_UINT32, &value),
               cat(context, ": cannot read attribute '", name, "' as uint32"));
  return value;
}

}  // namespace vlmt::h5

namespace vlmt::h5 {

namespace {
Handle variable_utf8_type(const std::string& context) {
  Handle type = check(H5Tcopy(H5T_C_S1), H5Tclose, context);
  check_status(H5Tset_size(type.get(), H5T_VARIABLE), context);
  check_status(H5Tset_cset(type.get(), H5T_CSET_UTF8), context);
  return type;
}
}  // namespace

void write_string_list(hid_t parent, const std::string& name, const std::vector<std::string>& values,
                       const std::string& context) {
  QuietErrors quiet;
  const std::string where = cat(context, ": /", name);
  Handle type = variable_utf8_type(where);
  hsize_t n = values.size();
  Handle space = check(H5Screate_simple(1, &n, nullptr), H5Sclose, where);
  Handle ds = check(H5Dcreate2(parent, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT,
                               H5P_DEFAULT),
                    H5Dclose, cat(where, ": cannot create dataset"));
  // The C API takes variable-length strings as an array of char pointers.
  std::vector<const char*> ptrs;
  for (const auto& v : values) ptrs.push_back(v.c_str());
  if (n > 0)
    check_status(H5Dwrite(ds.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()),
                 cat(where, ": cannot write"));
}

std::vector<std::string> read_string_list(hid_t parent, const std::string& name, const std::string& context) {
  QuietErrors quiet;
  const std::string where = cat(context, ": /", name);
  Handle ds = check(H5Dopen2(parent, name.c_str(), H5P_DEFAULT), H5Dclose, cat(where, ": cannot open dataset"));
  Handle type = check(H5Dget_type(ds.get()), H5Tclose, where);
  if (H5Tget_class(type.get()) != H5T_STRING) throw CheckpointError(cat(where, ": is not a string dataset"));
  Handle space = check(H5Dget_space(ds.get()), H5Sclose, where);
  if (H5Sget_simple_extent_ndims(space.get()) != 1) throw CheckpointError(cat(where, ": is not one-dimensional"));
  hsize_t n = 0;
  H5Sget_simple_extent_dims(space.get(), &n, nullptr);
  std::vector<std::string> out(n);
  if (n == 0) return out;
  const std::string bad = cat(where, ": cannot read (file truncated or damaged)");
  if (H5Tis_variable_str(type.get()) > 0) {
    Handle mem = variable_utf8_type(where);
    H5Tset_cset(mem.get(), H5Tget_cset(type.get()));
    std::vector<char*> raw(n, nullptr);
    check_status(H5Dread(ds.get(), mem.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, raw.data()), bad);
    for (hsize_t i = 0; i < n; ++i) out[i] = raw[i] != nullptr ? raw[i] : "";
    H5Dvlen_reclaim(mem.get(), space.get(), H5P_DEFAULT, raw.data());
    return out;
  }
  const size_t width = H5Tget_size(type.get());
  std::vector<char> raw(n * width);
  check_status(H5Dread(ds.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, raw.data()), bad);
  for (hsize_t i = 0; i < n; ++i) {
    const char* s = raw.data() + i * width;
    out[i] = std::string(s, strnlen(s, width));
  }
  return out;
}

}  // namespace vlmt::h5
