# The Debian package: `cmake --build build --target package` writes
# build/complaintd_<version>_amd64.deb (CPack's DEB generator).
#
#   /usr/bin/complaintd, /usr/bin/complaintctl
#   /usr/share/complaintd/rules/*.rules   the rule pack (and models/ when the
#                                         tree has one); found without flags
#                                         (src/paths.h)
#   /etc/complaintd/complaintd.conf       a conffile, from --print-config
#   /lib/systemd/system/complaintd.service
#   /usr/share/doc/complaintd/            README.md, copyright (LICENSE)
#   maintainer scripts (packaging/debian): the system user complaintd and
#   /var/lib/complaintd, the service enabled and started where systemd runs.
#
# Included at the end of CMakeLists.txt (after the targets it installs).
set(PKG_ETC /etc/complaintd)
set(PKG_STATE /var/lib/complaintd)
set(PKG_SHARE ${CMAKE_INSTALL_DATADIR}/complaintd)

install(TARGETS complaintd complaintctl RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${CMAKE_SOURCE_DIR}/rules/ DESTINATION ${PKG_SHARE}/rules
        FILES_MATCHING PATTERN "*.rules" PATTERN "README.md")
if(EXISTS ${CMAKE_SOURCE_DIR}/models)
  install(DIRECTORY ${CMAKE_SOURCE_DIR}/models/ DESTINATION ${PKG_SHARE}/models)
endif()

# The conffile, generated from the binary it ships with.
set(PKG_CONF ${CMAKE_BINARY_DIR}/packaging/complaintd.conf)
add_custom_command(OUTPUT ${PKG_CONF}
  COMMAND ${CMAKE_COMMAND} -DEXE=$<TARGET_FILE:complaintd> -DOUT=${PKG_CONF}
          -DDATA_DIR=${PKG_STATE} -DRULES_DIR=${COMPLAINTD_DATADIR}/rules
          -P ${CMAKE_SOURCE_DIR}/cmake/gen_conf.cmake
  DEPENDS complaintd ${CMAKE_SOURCE_DIR}/cmake/gen_conf.cmake
  COMMENT "packaging/complaintd.conf from complaintd --print-config" VERBATIM)
add_custom_target(package_conf ALL DEPENDS ${PKG_CONF})
install(FILES ${PKG_CONF} DESTINATION ${PKG_ETC})

# The unit goes where this machine's systemd looks for units of packages.
pkg_get_variable(SYSTEMD_UNIT_DIR systemd systemdsystemunitdir)
if(NOT SYSTEMD_UNIT_DIR)
  set(SYSTEMD_UNIT_DIR /lib/systemd/system)
endif()
install(FILES ${CMAKE_SOURCE_DIR}/packaging/complaintd.service DESTINATION ${SYSTEMD_UNIT_DIR})
install(FILES ${CMAKE_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES ${CMAKE_SOURCE_DIR}/LICENSE DESTINATION ${CMAKE_INSTALL_DOCDIR} RENAME copyright)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME complaintd)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "complaintd")
set(CPACK_PACKAGE_CONTACT "complaintd maintainers <complaintd@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "complaint triage daemon: labels complaint events, decides against customer history")
set(CPACK_PACKAGE_DESCRIPTION
    "complaintd reads complaint events from ZeroMQ, labels them with a Hyperscan rule pack, decides each against the customer's history in LMDB and publishes the decisions. complaintctl classifies, evaluates and sends events, and queries a running daemon.")
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # complaintd_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)  # Depends: from the binaries' libraries
set(CPACK_DEBIAN_PACKAGE_DEPENDS "passwd")  # useradd in postinst
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_SOURCE_DIR}/packaging/debian/conffiles ${CMAKE_SOURCE_DIR}/packaging/debian/postinst
    ${CMAKE_SOURCE_DIR}/packaging/debian/prerm ${CMAKE_SOURCE_DIR}/packaging/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
# Only what install() above names: no test, bench or example binary.
set(CPACK_INSTALL_CMAKE_PROJECTS "${CMAKE_BINARY_DIR};complaintd;ALL;/")
include(CPack)
