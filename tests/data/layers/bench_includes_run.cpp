// Not compiled: the layer check (cmake/check_includes.cmake) must refuse this file as part of
// the bench module, which sits below run (tests/CMakeLists.txt, layers_refuse_wrong_include).
#include "bench/rig.hpp"
#include "run/engine.hpp"
