#pragma once
// Opaque byte blobs for trainer state: any Boost-serialisable value <-> std::string.
// A text archive is used (not binary) because it does not depend on the sizes of C++ integer
// types, so a checkpoint written on one machine resumes on another.
#include <boost/archive/archive_exception.hpp>
#include <boost/archive/text_iarchive.hpp>
#include <boost/archive/text_oarchive.hpp>
#include <sstream>
#include <string>

#include "core/error.h"

namespace vlmt::ckpt {

template <class T>
std::string to_blob(const T& value) {
  std::ostringstream out;
  {
    boost::archive::text_oarchive archive(out);
    archive << value;
  }
  return out.str();
}

template <class T>
T from_blob(const std::string& blob) {
  T value{};
  try {
    std::istringstream in(blob);
    boost::archive::text_iarchive archive(in);
    archive >> value;
  } catch (const boost::archive::archive_exception& e) {
    throw CheckpointError(std::string("trainer state blob cannot be decoded: ") + e.what());
  } catch (const std::ios_base::failure& e) {
    throw CheckpointError(std::string("trainer state blob is truncated: ") + e.what());
  }
  return value;
}

}  // namespace vlmt::ckpt
