# The installable library: libxbnn.so and libxbnn.a (the runtime with its kernels and the C API),
# the public headers, xbnnConfig.cmake (find_package(xbnn) -> xbnn::xbnn, xbnn::xbnn_static) and
# xbnn.pc. Both libraries are built from the objects of the internal static libraries, so the
# tools and tests keep linking those directly.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)
find_package(FlatBuffers CONFIG REQUIRED)

set(XBNN_LIBRARY_PARTS xbnn_runtime xbnn_format xbnn_ops xbnn_kernels_builtin xbnn_kernels_lce
  xbnn_op_api xbnn_graph xbnn_kernels_binary)
# Float layers: Debian's XNNPACK (shared), or xbnn's portable stand-in built into the library.
if(TARGET xbnn_portable_float)
  list(APPEND XBNN_LIBRARY_PARTS xbnn_portable_float)
  set(_xbnn_float_shared)
  set(_xbnn_float_static)
else()
  set(_xbnn_float_shared ${XNNPACK_LIB} ${PTHREADPOOL_LIB} ${CPUINFO_LIB})
  set(_xbnn_float_static XNNPACK pthreadpool cpuinfo)
endif()
set(_xbnn_objects ${PROJECT_SOURCE_DIR}/src/c_api/c_api.cc)
foreach(_part ${XBNN_LIBRARY_PARTS})
  list(APPEND _xbnn_objects $<TARGET_OBJECTS:${_part}>)
endforeach()
set(_xbnn_public_includes
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
  $<BUILD_INTERFACE:${PROJECT_BINARY_DIR}/include>
  $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)

add_library(xbnn_shared SHARED ${_xbnn_objects})
set_target_properties(xbnn_shared PROPERTIES OUTPUT_NAME xbnn EXPORT_NAME xbnn
  VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR})
target_link_libraries(xbnn_shared PRIVATE flatbuffers::flatbuffers_shared ${_xbnn_float_shared}
  Threads::Threads xbnn_warnings)
# Every symbol the objects need must be resolved here, not by the consumer. Not in sanitizer
# builds: their runtimes come from the executable that loads the library.
if(NOT XBNN_SANITIZE AND NOT XBNN_TSAN)
  target_link_options(xbnn_shared PRIVATE -Wl,--no-undefined)
endif()

add_library(xbnn_static STATIC ${_xbnn_objects})
set_target_properties(xbnn_static PROPERTIES OUTPUT_NAME xbnn EXPORT_NAME xbnn_static)
target_link_libraries(xbnn_static PRIVATE $<BUILD_INTERFACE:xbnn_warnings>
  INTERFACE flatbuffers ${_xbnn_float_static} Threads::Threads)
foreach(_lib xbnn_shared xbnn_static)
  add_dependencies(${_lib} ${XBNN_LIBRARY_PARTS})
  target_include_directories(${_lib} INTERFACE ${_xbnn_public_includes})
  target_include_directories(${_lib} PRIVATE ${PROJECT_SOURCE_DIR}/include ${PROJECT_BINARY_DIR}/include)
  target_compile_features(${_lib} INTERFACE cxx_std_20)
endforeach()
add_library(xbnn::xbnn ALIAS xbnn_shared)
add_library(xbnn::xbnn_static ALIAS xbnn_static)

install(TARGETS xbnn_shared xbnn_static EXPORT xbnnTargets COMPONENT dev
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS xbnn COMPONENT dev RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
file(GLOB _xbnn_headers ${PROJECT_SOURCE_DIR}/include/xbnn/*.h)
install(FILES ${_xbnn_headers} ${PROJECT_BINARY_DIR}/include/xbnn/version.h COMPONENT dev
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/xbnn)

set(_xbnn_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/xbnn)
install(EXPORT xbnnTargets NAMESPACE xbnn:: DESTINATION ${_xbnn_cmake_dir} COMPONENT dev)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/xbnnConfig.cmake.in
  ${PROJECT_BINARY_DIR}/xbnnConfig.cmake INSTALL_DESTINATION ${_xbnn_cmake_dir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/xbnnConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/xbnnConfig.cmake ${PROJECT_BINARY_DIR}/xbnnConfigVersion.cmake
  DESTINATION ${_xbnn_cmake_dir} COMPONENT dev)
# A relocatable .pc: the prefix is found from the file's own place.
file(RELATIVE_PATH XBNN_PC_TO_PREFIX /p/${CMAKE_INSTALL_LIBDIR}/pkgconfig /p)
configure_file(${PROJECT_SOURCE_DIR}/cmake/xbnn.pc.in ${PROJECT_BINARY_DIR}/xbnn.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/xbnn.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig
  COMPONENT dev)
