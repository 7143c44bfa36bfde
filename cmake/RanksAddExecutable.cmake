# ranks_add_executable(NAME source...)
#
# The program NAME, built so that the engines of a started cluster (ranks cluster start) can
# run its tasks: its code, every source given, goes into a shared object, NAME_code
# (libNAME_code.so beside the program), that engines load by path and check by build id; the
# executable NAME is only the door to it. Under mpirun, srun or spawning engines itself the
# program runs as any other.
#
# Libraries the code uses are linked to the code target:
#   ranks_add_executable(app main.cpp model.cpp)
#   target_link_libraries(app_code PRIVATE Eigen3::Eigen)
# The code is linked with --no-undefined, so a library linked to `app` instead is caught when
# building, not on an engine.
function(ranks_add_executable NAME)
  if(NOT ARGN)
    message(FATAL_ERROR "ranks_add_executable(${NAME}): give the program's sources")
  endif()
  add_library(${NAME}_code SHARED ${ARGN})
  target_link_libraries(${NAME}_code PUBLIC ranks::ranks)
  target_link_options(${NAME}_code PRIVATE LINKER:--no-undefined LINKER:--build-id LINKER:-z,now)
  # An engine loads several programs' code side by side: each must keep its own template
  # statics (the registration of its task types), which GCC would otherwise merge across them.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(${NAME}_code PRIVATE -fno-gnu-unique)
  endif()
  set(stub ${CMAKE_CURRENT_BINARY_DIR}/ranks_add_executable/${NAME}.cpp)
  if(NOT EXISTS ${stub})
    file(WRITE ${stub}
         "// The program's main() is in its code, lib${NAME}_code.so (ranks_add_executable).\n")
  endif()
  add_executable(${NAME} ${stub})
  target_link_libraries(${NAME} PRIVATE ${NAME}_code)
  target_link_options(${NAME} PRIVATE LINKER:-z,now)
  set_target_properties(${NAME} PROPERTIES INSTALL_RPATH "$ORIGIN;$ORIGIN/../lib")
endfunction()
