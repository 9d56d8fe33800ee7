# Optimized binary kernels: run-time dispatch (optimized/), x86 variants (x86/, each file built
# with its own target flags so the library still runs on any x86-64) and ARM NEON (arm/: AArch64,
# and 32-bit ARMv7 with NEON enabled for its file only).
# Included by src/kernels/CMakeLists.txt.
find_package(Threads REQUIRED)

set(_xbnn_opt ${CMAKE_CURRENT_SOURCE_DIR}/binary)
target_sources(xbnn_kernels_binary PRIVATE
  ${_xbnn_opt}/optimized/isa.cc
  ${_xbnn_opt}/optimized/task_runner.cc
  ${_xbnn_opt}/optimized/variants.cc
  ${_xbnn_opt}/optimized/bconv2d.cc
  ${_xbnn_opt}/optimized/bconv2d_portable.cc
  ${_xbnn_opt}/optimized/bmaxpool2d.cc
  ${_xbnn_opt}/optimized/bmaxpool2d_portable.cc
  ${_xbnn_opt}/optimized/bitpack.cc
  ${_xbnn_opt}/optimized/bitpack_portable.cc
)
target_link_libraries(xbnn_kernels_binary PUBLIC Threads::Threads)
# Bit-exact float epilogues: no fused multiply-add contraction anywhere in the kernel library
# (reference and optimized kernels must compute clamp(y) * m + b with the same two roundings).
target_compile_options(xbnn_kernels_binary PRIVATE -ffp-contract=off)

if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
  set(_avx2 -mavx2 -mfma -mbmi2)
  # GCC 12's avx512fintrin.h trips -Wmaybe-uninitialized on _mm512_undefined_* (GCC PR105593).
  set(_avx512 ${_avx2} -mavx512f -mavx512bw -mavx512vl -mavx512dq
      $<$<CXX_COMPILER_ID:GNU>:-Wno-maybe-uninitialized>)
  set(_x86_sources
    x86/bconv2d_avx2.cc x86/bconv2d_avx512bw.cc x86/bconv2d_avx512vpopcnt.cc
    x86/bitpack_avx2.cc x86/bitpack_avx512.cc
    x86/bmaxpool2d_avx2.cc x86/bmaxpool2d_avx512.cc)
  foreach(_src ${_x86_sources})
    target_sources(xbnn_kernels_binary PRIVATE ${_xbnn_opt}/${_src})
  endforeach()
  foreach(_src x86/bconv2d_avx2.cc x86/bitpack_avx2.cc x86/bmaxpool2d_avx2.cc)
    set_source_files_properties(${_xbnn_opt}/${_src} PROPERTIES COMPILE_OPTIONS "${_avx2}")
  endforeach()
  foreach(_src x86/bconv2d_avx512bw.cc x86/bitpack_avx512.cc x86/bmaxpool2d_avx512.cc)
    set_source_files_properties(${_xbnn_opt}/${_src} PROPERTIES COMPILE_OPTIONS "${_avx512}")
  endforeach()
  # GCC's tree PRE hoists the broadcast loads of the 6x4 micro-kernel and spills accumulators
  # (34 stack accesses per K step instead of 0).
  set_source_files_properties(${_xbnn_opt}/x86/bconv2d_avx512vpopcnt.cc PROPERTIES
    COMPILE_OPTIONS "${_avx512};-mavx512vpopcntdq;$<$<CXX_COMPILER_ID:GNU>:-fno-tree-pre>")
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64|ARM64)$")
  target_sources(xbnn_kernels_binary PRIVATE ${_xbnn_opt}/arm/bconv2d_neon.cc)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(armv7.*|arm)$")
  # 32-bit ARM: only the NEON variant's file is built with NEON; the rest of the library keeps
  # the toolchain's baseline (Debian armhf: ARMv7 + VFPv3-D16) and runs on CPUs without NEON.
  target_sources(xbnn_kernels_binary PRIVATE ${_xbnn_opt}/arm/bconv2d_neon_armv7.cc)
  # As for AVX-512 VPOPCNT: GCC's tree PRE makes it copy 7 of the 8 accumulators (vorr) per K step.
  set_source_files_properties(${_xbnn_opt}/arm/bconv2d_neon_armv7.cc PROPERTIES
    COMPILE_OPTIONS "-mfpu=neon;$<$<CXX_COMPILER_ID:GNU>:-fno-tree-pre>")
endif()
unset(_xbnn_opt)
