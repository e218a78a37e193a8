# The version and commit complaintd and complaintctl report (--version, the
# complaintd_build_info metric), and the directory of the installed rule pack
# and model the binaries fall back to (src/buildinfo.h, src/paths.h).
# Included from CMakeLists.txt after the complaint library is defined.
# A Debian package installs under /usr (cmake/package.cmake), and the data
# directory compiled in below must be the one it installs to: /usr is the
# default prefix unless one is given.
if(CMAKE_INSTALL_PREFIX_INITIALIZED_TO_DEFAULT)
  set(CMAKE_INSTALL_PREFIX /usr CACHE PATH "Install prefix" FORCE)
endif()
include(GNUInstallDirs)

add_custom_target(build_info
  COMMAND ${CMAKE_COMMAND} -DSRC=${CMAKE_SOURCE_DIR} -DOUT=${GEN}/build_info.h
          -DVERSION=${PROJECT_VERSION} -P ${CMAKE_SOURCE_DIR}/cmake/build_info.cmake
  BYPRODUCTS ${GEN}/build_info.h
  COMMENT "build info (version ${PROJECT_VERSION}, git commit)"
  VERBATIM)
target_sources(complaint PRIVATE src/buildinfo.c src/paths.c src/dirlock.c)
add_dependencies(complaint build_info)

# Where the package puts the rule pack and the model (cmake/package.cmake).
set(COMPLAINTD_DATADIR "${CMAKE_INSTALL_FULL_DATADIR}/complaintd")
set_source_files_properties(src/paths.c PROPERTIES
  COMPILE_DEFINITIONS "COMPLAINTD_DATADIR=\"${COMPLAINTD_DATADIR}\"")
