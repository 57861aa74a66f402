# Installing xfed (cmake --install build --prefix P) and its Debian package (cpack -G DEB):
#   P/bin/xfed                         the CLI
#   P/include/xfed/*.h                 the public API (what users include: <xfed/xfed.h>)
#   P/include/xfed/detail/…            the headers the public ones build on (not for users)
#   P/lib/libxfed_*.a                  the libraries
#   P/lib/cmake/xfed/xfedConfig.cmake  find_package(xfed CONFIG): the target xfed::xfed
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(XFED_LIBRARIES xfed_base xfed_secagg xfed_core xfed_transport xfed_compression xfed_deploy xfed_protocol xfed_pruning
    xfed_worker xfed_coordinator xfed_app_flags xfed_app xfed_cli)
if(XFED_WITH_MPI)
  list(APPEND XFED_LIBRARIES xfed_transport_mpi xfed_app_mpi)
endif()
if(XFED_WITH_ZMQ)
  list(APPEND XFED_LIBRARIES xfed_transport_zmq xfed_edge_admission xfed_app_zmq)
endif()

install(TARGETS xfed RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# A PyTorch model from a .py file to the archive --model torchscript:FILE trains.
install(PROGRAMS launch/export_model.py DESTINATION ${CMAKE_INSTALL_BINDIR} RENAME xfed-export-model)
install(TARGETS ${XFED_LIBRARIES} xfed_library EXPORT xfedTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} ${CMAKE_INSTALL_INCLUDEDIR}/xfed/detail)
install(DIRECTORY include/xfed DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.h")
install(FILES ${CMAKE_BINARY_DIR}/generated/xfed/config.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/xfed)
foreach(folder core secagg transport compression deploy protocol pruning worker coordinator app)
  install(DIRECTORY ${folder} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/xfed/detail FILES_MATCHING PATTERN "*.h")
endforeach()
install(EXPORT xfedTargets NAMESPACE xfed:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/xfed)
configure_package_config_file(cmake/xfedConfig.cmake.in ${CMAKE_BINARY_DIR}/xfedConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/xfed PATH_VARS CMAKE_INSTALL_BINDIR)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/xfedConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/xfedConfig.cmake ${CMAKE_BINARY_DIR}/xfedConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/xfed)

# The Debian package: xfed_<version>_amd64.deb, its dependencies Debian's packages.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME xfed)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "federated training with compressed communication and federated structured pruning")
set(CPACK_PACKAGE_CONTACT "xfed developers <xfed@localhost>")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION science)
# Depends: what the binary loads; Recommends: what a find_package(xfed) build needs besides.
set(XFED_DEBIAN_DEPENDS libtorch1.13 libopenblas0-openmp libzstd1 zlib1g libtomlplusplus3 libsodium23 libgfshare2 libstdc++6 libgomp1)
set(XFED_DEBIAN_RECOMMENDS libtorch-dev libzstd-dev zlib1g-dev nlohmann-json3-dev libcli11-dev libtomlplusplus-dev libsodium-dev libgfshare-dev
    dataset-fashion-mnist python3-torch)
if(XFED_WITH_DNNL)
  list(APPEND XFED_DEBIAN_DEPENDS libdnnl2)
endif()
if(XFED_WITH_MPI)
  list(APPEND XFED_DEBIAN_DEPENDS libopenmpi3)
  list(APPEND XFED_DEBIAN_RECOMMENDS openmpi-bin libopenmpi-dev)
endif()
if(XFED_WITH_ZMQ)
  list(APPEND XFED_DEBIAN_DEPENDS libzmq5)
  list(APPEND XFED_DEBIAN_RECOMMENDS libzmq3-dev cppzmq-dev)
endif()
list(JOIN XFED_DEBIAN_DEPENDS ", " CPACK_DEBIAN_PACKAGE_DEPENDS)
list(JOIN XFED_DEBIAN_RECOMMENDS ", " CPACK_DEBIAN_PACKAGE_RECOMMENDS)
include(CPack)
