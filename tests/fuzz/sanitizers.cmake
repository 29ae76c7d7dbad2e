# Included by the top-level CMakeLists.txt before any target is defined when QWENIMAGE_FUZZ is
# ON: everything compiled in a fuzz build gets libFuzzer's coverage instrumentation
# (fuzzer-no-link: the fuzzer's main() is linked into the targets only) plus ASan and UBSan,
# with UBSan findings fatal so that libFuzzer records them as crashes.
if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang" OR NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "QWENIMAGE_FUZZ needs clang (libFuzzer): configure with "
                      "-DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14")
endif()
if(QWENIMAGE_SANITIZE)
  message(FATAL_ERROR "QWENIMAGE_FUZZ chooses its own sanitizers; leave QWENIMAGE_SANITIZE empty")
endif()
set(QWENIMAGE_FUZZ_SANITIZERS "address,undefined")
add_compile_options(-fsanitize=fuzzer-no-link,${QWENIMAGE_FUZZ_SANITIZERS}
                    -fno-sanitize-recover=all -fno-omit-frame-pointer)
add_link_options(-fsanitize=${QWENIMAGE_FUZZ_SANITIZERS})
