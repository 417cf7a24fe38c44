// vlmt_command_batch --list: the names of every command, one per line.
// vlmt_command_batch REQUESTS OUTDIR: runs many command lines of vlmt's commands, each in its own
// process forked from this one, which has loaded the libraries once. Starting an executable costs
// about 0.5 s of CPU before main, all of it in loading Debian's LibTorch (docs/TESTING.md "Time");
// a fork costs milliseconds. A request runs the very function the command's executable runs (its
// generated main only forwards argc and argv), with stdin from /dev/null.
//
// REQUESTS: each request is its fields, each ended by a NUL byte, then one more NUL: the command's
// name, then its arguments (any bytes but NUL). Request k (0-based) leaves OUTDIR/k.out, k.err and
// k.rc: the exit status as the shell reports it (128 + the signal for a killed process; a request
// still running after 120 s is killed by SIGALRM, 142).
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "command_table.h"

namespace {

using Request = std::vector<std::string>;

std::vector<Request> read_requests(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot be read");
  const std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  std::vector<Request> requests;
  Request current;
  size_t start = 0;
  for (size_t end; (end = bytes.find('\0', start)) != std::string::npos; start = end + 1) {
    if (end == start) {  // the empty field that ends a request
      if (current.empty()) throw std::runtime_error(path + ": an empty request");
      requests.push_back(std::move(current));
      current.clear();
    } else {
      current.push_back(bytes.substr(start, end - start));
    }
  }
  if (start != bytes.size() || !current.empty()) throw std::runtime_error(path + ": the last request is not ended by two NULs");
  return requests;
}

int (*find_command(const std::string& name))(int, char**) {
  for (int i = 0; i < vlmt::testing::kCommandCount; ++i)
    if (name == vlmt::testing::kCommands[i].name) return vlmt::testing::kCommands[i].run;
  return nullptr;
}

void redirect(int fd, const std::string& path, int flags) {
  const int opened = ::open(path.c_str(), flags, 0644);
  if (opened < 0 || ::dup2(opened, fd) < 0) {
    std::perror(path.c_str());
    std::_Exit(125);
  }
  ::close(opened);
}

// The child's side of a fork: the command with the request's arguments; never returns.
[[noreturn]] void run_in_child(const Request& request, int (*run)(int, char**), const std::string& stem) {
  redirect(0, "/dev/null", O_RDONLY);
  redirect(1, stem + ".out", O_WRONLY | O_CREAT | O_TRUNC);
  redirect(2, stem + ".err", O_WRONLY | O_CREAT | O_TRUNC);
  ::alarm(120);
  std::vector<std::string> args = request;
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const int status = run(static_cast<int>(args.size()), argv.data());
  // Flush what the command wrote, then leave without the static destructors: LibTorch's
  // unregistering of its operators is most of a forked request's cost (copy-on-write faults on
  // the parent's pages). The executables' own exit is what check 1 of the test exercises.
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  std::_Exit(status);
}

int shell_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 255;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::string(argv[1]) == "--list") {
    for (int i = 0; i < vlmt::testing::kCommandCount; ++i) std::cout << vlmt::testing::kCommands[i].name << "\n";
    return 0;
  }
  if (argc != 3) {
    std::cerr << "usage: vlmt_command_batch --list | REQUESTS OUTDIR\n";
    return 2;
  }
  try {
    const auto requests = read_requests(argv[1]);
    for (size_t k = 0; k < requests.size(); ++k) {
      const auto run = find_command(requests[k][0]);
      if (!run) {
        std::cerr << argv[1] << ": request " << k << ": no command named \"" << requests[k][0] << "\"\n";
        return 2;
      }
      const std::string stem = std::string(argv[2]) + "/" + std::to_string(k);
      std::cout.flush();
      std::cerr.flush();
      const pid_t pid = ::fork();
      if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
      if (pid == 0) run_in_child(requests[k], run, stem);
      int status = 0;
      if (::waitpid(pid, &status, 0) != pid) throw std::runtime_error(std::string("waitpid: ") + std::strerror(errno));
      std::ofstream(stem + ".rc") << shell_status(status) << "\n";
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "vlmt_command_batch: " << e.what() << "\n";
    return 1;
  }
}
