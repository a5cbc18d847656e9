file(REMOVE_RECURSE
  "CMakeFiles/izhinet_core.dir/src/commands.cpp.o"
  "CMakeFiles/izhinet_core.dir/src/commands.cpp.o.d"
  "CMakeFiles/izhinet_core.dir/src/config.cpp.o"
  "CMakeFiles/izhinet_core.dir/src/config.cpp.o.d"
  "CMakeFiles/izhinet_core.dir/src/cpu_backend.cpp.o"
  "CMakeFiles/izhinet_core.dir/src/cpu_backend.cpp.o.d"
  "CMakeFiles/izhinet_core.dir/src/cuda_stub.cpp.o"
  "CMakeFiles/izhinet_core.dir/src/cuda_stub.cpp.o.d"
  "CMakeFiles/izhinet_core.dir/src/output.cpp.o"
  "CMakeFiles/izhinet_core.dir/src/output.cpp.o.d"
  "CMakeFiles/izhinet_core.dir/src/params.cpp.o"
  "CMakeFiles/izhinet_core.dir/src/params.cpp.o.d"
  "CMakeFiles/izhinet_core.dir/src/simulation.cpp.o"
  "CMakeFiles/izhinet_core.dir/src/simulation.cpp.o.d"
  "libizhinet_core.a"
  "libizhinet_core.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang CXX)
  include(CMakeFiles/izhinet_core.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
