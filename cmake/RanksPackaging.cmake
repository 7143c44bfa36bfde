# ranks as a Debian package and for pkg-config users.
#
#   cpack -G DEB          (in the build tree; ./run.sh package does it in ./build)
#
# gives ranks_VERSION_amd64.deb: the library, the headers, the CMake package files with
# ranks_add_executable, ranks.pc and the ranks command, installed under /usr. Its Depends are what
# a user needs to build and run programs against it: the MPI ranks was built with (its compiler
# wrapper and launcher too), Boost.Serialization's headers and a C++ compiler, plus the shared
# libraries' own packages, which dpkg-shlibdeps finds (dpkg-dev).

# ranks.pc: for Makefiles that build with the MPI's wrapper, which adds MPI's own flags:
#   mpicxx $(pkg-config --cflags --libs ranks) app.cpp -o app
# The prefix is found from the .pc file's place, so an unpacked package works in any directory.
file(RELATIVE_PATH _ranks_pc_to_prefix ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig
     ${CMAKE_INSTALL_PREFIX})
string(REGEX REPLACE "/$" "" _ranks_pc_to_prefix "${_ranks_pc_to_prefix}")
# A program gets what ranks_add_executable gives a program's code (RanksAddExecutable.cmake):
# its own template statics when an engine loads several programs (-fno-gnu-unique, GCC only), a
# build id that the engines check, symbols bound at load, no undefined symbol left for an engine
# to find; and what ranks::ranks brings: C++20, Boost.Serialization as a shared library, and
# threads and dlopen.
set(RANKS_PC_CFLAGS "-std=c++20 -DBOOST_SERIALIZATION_DYN_LINK")
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  string(APPEND RANKS_PC_CFLAGS " -fno-gnu-unique")
endif()
# The libraries are linked even when named before the sources, as `mpicxx $(pkg-config --cflags
# --libs ranks) app.cpp` names them: Debian's GCC links --as-needed, which drops a library that
# no object before it uses.
set(RANKS_PC_LIBS "-Wl,--push-state,--no-as-needed -lranks -lboost_serialization -Wl,--pop-state")
foreach(lib IN LISTS CMAKE_THREAD_LIBS_INIT CMAKE_DL_LIBS)
  if(lib MATCHES "^-")
    string(APPEND RANKS_PC_LIBS " ${lib}")
  else()
    string(APPEND RANKS_PC_LIBS " -l${lib}")
  endif()
endforeach()
string(APPEND RANKS_PC_LIBS " -Wl,--no-undefined -Wl,--build-id -Wl,-z,now")
configure_file(cmake/ranks.pc.in ${CMAKE_CURRENT_BINARY_DIR}/ranks.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/ranks.pc
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# The Debian packages of the MPI found (RANKS_MPI_FLAVOR): the headers and wrapper, the launcher.
if(RANKS_MPI_FLAVOR STREQUAL "openmpi")
  set(_ranks_deb_mpi "libopenmpi-dev, openmpi-bin")
elseif(RANKS_MPI_FLAVOR STREQUAL "mpich")
  set(_ranks_deb_mpi "libmpich-dev, mpich")
else()
  message(WARNING "ranks: the .deb cannot name the Debian packages of ${MPI_CXX_COMPILER}'s MPI "
                  "(neither Open MPI nor MPICH); its Depends leave MPI out")
endif()

set(CPACK_PACKAGE_NAME ranks)
set(CPACK_PACKAGE_VENDOR ranks)
# Who answers for the package, and where it lives: the commits' own address by default; the
# homepage field is left out until there is one to name.
set(RANKS_DEB_MAINTAINER "ranks maintainers <maintainers@users.noreply.r-seed-34a3dff9.example>"
    CACHE STRING "The Maintainer field of the .deb")
set(RANKS_HOMEPAGE_URL "" CACHE STRING "The Homepage field of the .deb (empty: none)")
set(CPACK_PACKAGE_CONTACT "${RANKS_DEB_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "Python's multiprocessing and IPython parallel for C++, over MPI")
set(CPACK_PACKAGE_DESCRIPTION
    "Pool, Process, AsyncResult, queues, pipes, locks, and IPython parallel's Client, direct and\n"
    "load-balanced views, for C++20 programs run under mpirun, in a batch job, as a plain\n"
    "program that spawns its engines, or attached to engines started with `ranks cluster start`.\n"
    "Contains the library, its headers, the CMake package (find_package(ranks),\n"
    "ranks_add_executable), ranks.pc for pkg-config and the ranks command.")
string(REPLACE ";" "" CPACK_PACKAGE_DESCRIPTION "${CPACK_PACKAGE_DESCRIPTION}")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # ranks_VERSION_amd64.deb
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
if(RANKS_HOMEPAGE_URL)
  set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "${RANKS_HOMEPAGE_URL}")
endif()
# Boost.Serialization's library comes with its headers: libranks itself does not need it (it is
# linked --as-needed), the programs built against it do.
set(_ranks_deb_boost
    "libboost-serialization-dev (>= ${Boost_MAJOR_VERSION}.${Boost_MINOR_VERSION})")
set(CPACK_DEBIAN_PACKAGE_DEPENDS "${_ranks_deb_mpi}, ${_ranks_deb_boost}, g++ (>= 4:10)")
string(REGEX REPLACE "^, " "" CPACK_DEBIAN_PACKAGE_DEPENDS "${CPACK_DEBIAN_PACKAGE_DEPENDS}")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "cmake (>= 3.21), pkgconf | pkg-config")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "gnuplot-nox")  # ranks timeline's charts
# libc6, libstdc++6, libssl3, the MPI's library: from the binaries.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# A shlibs file, and ldconfig run when the package is installed or removed.
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
include(CPack)
