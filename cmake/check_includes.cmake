# Build step of every pumprig library and program (CMakeLists.txt, pumprig_check_layers): each
# #include "..." of a file under src/ must be a header of the module itself or of a module it
# may use (its declared dependencies, transitively). A wrong include fails the build here, with
# the file, line and the modules allowed. Run as:
#   cmake -DMODULE=name -DALLOWED=<file of allowed headers> -DSOURCES=<file of sources>
#         -DSRC=<source tree>/src -DSTAMP=<file touched on success> -P check_includes.cmake
file(STRINGS "${ALLOWED}" allowed)
file(STRINGS "${SOURCES}" sources)
set(problems "")
foreach(source IN LISTS sources)
  file(STRINGS "${source}" lines REGEX "^[ \t]*#[ \t]*include[ \t]*\"")
  foreach(line IN LISTS lines)
    string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]*\"([^\"]+)\".*" "\\1" header "${line}")
    # Only headers of src/ modules are checked; a file's own neighbours ("pty.hpp") and test
    # support are not modules.
    if(NOT EXISTS "${SRC}/${header}" OR NOT header MATCHES "/")
      continue()
    endif()
    list(FIND allowed "${header}" found)
    if(found EQUAL -1)
      string(APPEND problems "${source}: includes \"${header}\", which ${MODULE} may not use (docs/architecture.md, layers)\n")
    endif()
  endforeach()
endforeach()
if(problems)
  message(NOTICE "${problems}")  # unwrapped: one line per include
  message(FATAL_ERROR "layer check of ${MODULE} failed: the includes above cross the layers")
endif()
file(TOUCH "${STAMP}")
