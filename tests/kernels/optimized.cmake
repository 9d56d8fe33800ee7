# Tests of the optimized binary kernels: bit-exact against the reference kernels, for every
# variant this build and CPU run, with 1, 2 and 3 threads. Included by CMakeLists.txt here.
add_executable(xbnn_kernels_optimized_test
  optimized_bconv2d_test.cc
  optimized_bconv2d_fused_test.cc
  optimized_bconv2d_chain_test.cc
  optimized_bitpack_test.cc
  optimized_bmaxpool2d_test.cc
  optimized_runtime_test.cc
)
target_link_libraries(xbnn_kernels_optimized_test PRIVATE
  xbnn_kernels_binary xbnn_warnings GTest::gtest GTest::gtest_main)
gtest_discover_tests(xbnn_kernels_optimized_test
  NO_PRETTY_VALUES DISCOVERY_TIMEOUT 60
  PROPERTIES LABELS "kernels;optimized")
