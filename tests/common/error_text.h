#pragma once
// The message of the vlmt::Error that `f` throws, "" when it throws none (for tests that check
// what an error says).
#include <functional>
#include <string>

#include "core/error.h"

namespace vlmt::testing {

inline std::string error_text_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace vlmt::testing
