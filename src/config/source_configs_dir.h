#pragma once
// The source tree's configs/ folder, the last place find_configs_dir looks. Its own file because
// the path is compiled in (VLMT_SOURCE_CONFIGS, src/CMakeLists.txt): every other object, the
// precompiled header included, is then the same for any checkout path, so ccache (base_dir)
// reuses them across worktrees and clean clones, and this file alone is rebuilt.
namespace vlmt {
const char* source_configs_dir();
}  // namespace vlmt
