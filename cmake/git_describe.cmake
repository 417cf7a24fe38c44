# Writes OUT, a header defining VLMT_GIT_DESCRIBE from `git describe` of SRC, and rewrites it only
# when the text changed, so that a new commit recompiles core/version.cpp and nothing else.
# Run at every build by the vlmt_git_describe target (src/CMakeLists.txt).
execute_process(COMMAND git describe --always --dirty --tags
                WORKING_DIRECTORY "${SRC}"
                OUTPUT_VARIABLE describe ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE
                RESULT_VARIABLE status)
if(NOT status EQUAL 0 OR describe STREQUAL "")
  set(describe "unknown")  # a source tree without git history
endif()
set(content "#define VLMT_GIT_DESCRIBE \"${describe}\"\n")
set(old "")
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
endif()
if(NOT old STREQUAL content)
  file(WRITE "${OUT}" "${content}")
endif()
