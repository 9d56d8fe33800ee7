# Optimized binary kernels: run-time dispatch (optimized/) and the ISA variants (x86/, arm/). Each
# variant file sets its own target (#pragma GCC target) and compiles to nothing on another
# architecture, so the library still runs on any CPU of its architecture; the variant table is
# optimized/isa_table.inc. Included by src/kernels/CMakeLists.txt.
find_package(Threads REQUIRED)

set(_xbnn_opt ${CMAKE_CURRENT_SOURCE_DIR}/binary)
target_sources(xbnn_kernels_binary PRIVATE
  ${_xbnn_opt}/optimized/isa.cc
  ${_xbnn_opt}/optimized/task_runner.cc
  ${_xbnn_opt}/optimized/variants.cc
  ${_xbnn_opt}/optimized/bconv2d.cc
  ${_xbnn_opt}/optimized/bconv_amx.cc
  ${_xbnn_opt}/optimized/bconv2d_portable.cc
  ${_xbnn_opt}/optimized/bmaxpool2d.cc
  ${_xbnn_opt}/optimized/bmaxpool2d_portable.cc
  ${_xbnn_opt}/optimized/bitpack.cc
  ${_xbnn_opt}/optimized/bitpack_portable.cc
)
# Every variant file, of every architecture: each one's #if keeps what this target does not run.
file(GLOB _xbnn_variants CONFIGURE_DEPENDS ${_xbnn_opt}/x86/*.cc ${_xbnn_opt}/arm/*.cc)
target_sources(xbnn_kernels_binary PRIVATE ${_xbnn_variants})
target_link_libraries(xbnn_kernels_binary PUBLIC Threads::Threads)
# Bit-exact float epilogues: no fused multiply-add contraction anywhere in the kernel library
# (reference and optimized kernels must compute clamp(y) * m + b with the same two roundings).
target_compile_options(xbnn_kernels_binary PRIVATE -ffp-contract=off)
unset(_xbnn_opt)
unset(_xbnn_variants)
