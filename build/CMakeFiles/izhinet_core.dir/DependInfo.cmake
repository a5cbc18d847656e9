
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/src/commands.cpp" "CMakeFiles/izhinet_core.dir/src/commands.cpp.o" "gcc" "CMakeFiles/izhinet_core.dir/src/commands.cpp.o.d"
  "/work/main/src/config.cpp" "CMakeFiles/izhinet_core.dir/src/config.cpp.o" "gcc" "CMakeFiles/izhinet_core.dir/src/config.cpp.o.d"
  "/work/main/src/cpu_backend.cpp" "CMakeFiles/izhinet_core.dir/src/cpu_backend.cpp.o" "gcc" "CMakeFiles/izhinet_core.dir/src/cpu_backend.cpp.o.d"
  "/work/main/src/cuda_stub.cpp" "CMakeFiles/izhinet_core.dir/src/cuda_stub.cpp.o" "gcc" "CMakeFiles/izhinet_core.dir/src/cuda_stub.cpp.o.d"
  "/work/main/src/output.cpp" "CMakeFiles/izhinet_core.dir/src/output.cpp.o" "gcc" "CMakeFiles/izhinet_core.dir/src/output.cpp.o.d"
  "/work/main/src/params.cpp" "CMakeFiles/izhinet_core.dir/src/params.cpp.o" "gcc" "CMakeFiles/izhinet_core.dir/src/params.cpp.o.d"
  "/work/main/src/simulation.cpp" "CMakeFiles/izhinet_core.dir/src/simulation.cpp.o" "gcc" "CMakeFiles/izhinet_core.dir/src/simulation.cpp.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
