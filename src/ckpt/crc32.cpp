#include "ckpt/crc32.h"

#include <zlib.h>

namespace vlmt::ckpt {

uint32_t crc32(const void* data, size_t size, uint32_t previous) {
  // zlib's crc32_z takes a size_t length (no 4 GiB chunking needed) and continues `previous`.
  return static_cast<uint32_t>(::crc32_z(previous, static_cast<const Bytef*>(data), size));
}

}  // namespace vlmt::ckpt
