#pragma once
// CRC-32 (the zlib/PNG/IEEE 802.3 polynomial, reflected, init and final xor 0xFFFFFFFF).
// Checkpoint tensors carry this checksum over their raw bytes. It is the exact function that
// Python's zlib.crc32 computes, so tools/convert/convert_vilbert_checkpoint.py can write files the C++
// loader verifies without a Python-side reimplementation of a bespoke hash; computed by zlib.
#include <cstddef>
#include <cstdint>

namespace vlmt::ckpt {

// `previous` continues a running checksum: crc32(b, nb, crc32(a, na)) == crc32(a+b).
uint32_t crc32(const void* data, size_t size, uint32_t previous = 0);

}  // namespace vlmt::ckpt
