// A checkpoint reaches the disk before it replaces the previous one: write_checkpoint fsyncs the
// finished tmp file before renaming it into place, and the directory after the renames
// (ckpt/checkpoint.h). A missing fsync changes nothing a process can read back, so this test
// watches the calls themselves: this executable defines fsync(), which the linker binds in
// place of the C library's, records the path of each descriptor and forwards to the real one.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "ckpt/checkpoint.h"
#include "test_ckpt_util.h"

namespace {

std::mutex g_mutex;
bool g_recording = false;
std::vector<std::string> g_synced;  // paths, in call order, while recording

std::string path_of(int fd) {
  char target[4096];
  const std::string link = "/proc/self/fd/" + std::to_string(fd);
  const ssize_t n = ::readlink(link.c_str(), target, sizeof target - 1);
  return n < 0 ? "<fd " + std::to_string(fd) + ">" : std::string(target, static_cast<size_t>(n));
}

}  // namespace

extern "C" int fsync(int fd) {
  using Fsync = int (*)(int);
  static const auto real = reinterpret_cast<Fsync>(::dlsym(RTLD_NEXT, "fsync"));
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    if (g_recording) g_synced.push_back(path_of(fd));
  }
  return real(fd);
}

namespace vlmt::ckpt {
namespace {

std::vector<std::string> synced_while(const std::function<void()>& work) {
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    g_synced.clear();
    g_recording = true;
  }
  work();
  std::lock_guard<std::mutex> lock(g_mutex);
  g_recording = false;
  return g_synced;
}

TEST(CkptFsync, TheFileIsSyncedBeforeItsRenameAndTheDirectoryAfter) {
  test_util::TempDir dir;
  CheckpointData data;
  data.stage = "mt_train";
  data.params = {{"w", torch::arange(6, torch::kFloat32)}};
  write_checkpoint(dir.str(), "latest", data);  // the second write also renames latest to _prev
  const auto synced = synced_while([&] { write_checkpoint(dir.str(), "latest", data); });
  const std::string canonical = std::filesystem::canonical(dir.str()).string();
  const std::vector<std::string> expected = {canonical + "/latest.h5.tmp", canonical};
  EXPECT_EQ(synced, expected);
}

}  // namespace
}  // namespace vlmt::ckpt
