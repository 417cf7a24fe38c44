#include "data/feature_rows.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "core/hdf5_util.h"
#include "core/log.h"

namespace vlmt {

DatasetRows::DatasetRows(hid_t dataset, int64_t rows, int64_t cols, int64_t elem_bytes, uint64_t userblock)
    : cols_(cols), elem_bytes_(elem_bytes), why_not_() {
  static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "direct reads assume the files' little-endian order");
  h5::Handle plist(H5Dget_create_plist(dataset), H5Pclose);
  if (!plist.valid()) {
    why_not_ = "its creation properties are unreadable";
    return;
  }
  const uint64_t row_bytes = static_cast<uint64_t>(cols * elem_bytes);
  switch (H5Pget_layout(plist.get())) {
    case H5D_CONTIGUOUS: {
      const haddr_t addr = H5Dget_offset(dataset);
      if (rows > 0 && addr == HADDR_UNDEF) {
        why_not_ = "its storage is not allocated";
        return;
      }
      chunk_offsets_ = {rows > 0 ? userblock + addr : 0};
      return;
    }
    case H5D_CHUNKED: {
      if (H5Pget_nfilters(plist.get()) != 0) {
        why_not_ = "its chunks are filtered (compressed)";
        return;
      }
      hsize_t chunk[2] = {0, 0};
      if (H5Pget_chunk(plist.get(), 2, chunk) != 2 || static_cast<int64_t>(chunk[1]) != cols || chunk[0] == 0) {
        why_not_ = "its chunks do not span whole rows";
        return;
      }
      chunk_rows_ = static_cast<int64_t>(chunk[0]);
      const int64_t chunks = (rows + chunk_rows_ - 1) / chunk_rows_;
      chunk_offsets_.resize(chunks);
      for (int64_t c = 0; c < chunks; ++c) {
        hsize_t coord[2] = {static_cast<hsize_t>(c * chunk_rows_), 0};
        unsigned filter_mask = 0;
        haddr_t addr = HADDR_UNDEF;
        hsize_t size = 0;
        if (H5Dget_chunk_info_by_coord(dataset, coord, &filter_mask, &addr, &size) < 0 || addr == HADDR_UNDEF ||
            size != chunk[0] * row_bytes) {
          why_not_ = cat("chunk ", c, " is not stored whole");
          chunk_offsets_.clear();
          return;
        }
        chunk_offsets_[c] = userblock + addr;
      }
      return;
    }
    default:
      why_not_ = "its layout is compact or virtual";
  }
}

void DatasetRows::read(int fd, int64_t begin, int64_t n, void* dest) const {
  char* out = static_cast<char*>(dest);
  const int64_t row_bytes = this->row_bytes();
  while (n > 0) {
    // One extent: the rest of the contiguous dataset, or the rest of begin's chunk.
    const int64_t in_chunk = chunk_rows_ == 0 ? n : std::min(n, chunk_rows_ - begin % chunk_rows_);
    const uint64_t at = chunk_rows_ == 0 ? chunk_offsets_[0] + static_cast<uint64_t>(begin * row_bytes)
                                         : chunk_offsets_[begin / chunk_rows_] +
                                               static_cast<uint64_t>((begin % chunk_rows_) * row_bytes);
    size_t want = static_cast<size_t>(in_chunk * row_bytes), done = 0;
    while (done < want) {
      const ssize_t got = ::pread(fd, out + done, want - done, static_cast<off_t>(at + done));
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0)
        throw std::runtime_error(got == 0 ? cat("the file ends before byte ", at + want)
                                          : cat("pread at byte ", at + done, " failed: ", std::strerror(errno)));
      done += static_cast<size_t>(got);
    }
    out += want;
    begin += in_chunk;
    n -= in_chunk;
  }
}

}  // namespace vlmt
