# Unit tests of the runtime library (lathe_runtime): the C ABI and .npy/.npz
# I/O. Included from test/unit/CMakeLists.txt; needs only GTest, so it also
# runs in a LATHE_RUNTIME_ONLY build. Paths use CMAKE_CURRENT_LIST_DIR (this
# file's folder) so that they hold wherever the snippet is included from.
add_executable(lathe_runtime_tests
  ${CMAKE_CURRENT_LIST_DIR}/RuntimeTest.cpp
  ${CMAKE_CURRENT_LIST_DIR}/NpyTest.cpp
  ${CMAKE_CURRENT_LIST_DIR}/ThreadPoolTest.cpp
)
target_link_libraries(lathe_runtime_tests PRIVATE lathe_runtime GTest::gtest_main)
target_compile_definitions(lathe_runtime_tests PRIVATE
  LATHE_TEST_DATA_DIR="${CMAKE_CURRENT_LIST_DIR}/data")
if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  target_compile_options(lathe_runtime_tests PRIVATE -Wall -Wextra)
endif()
gtest_discover_tests(lathe_runtime_tests)
