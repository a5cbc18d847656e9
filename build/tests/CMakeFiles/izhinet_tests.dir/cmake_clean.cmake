file(REMOVE_RECURSE
  "CMakeFiles/izhinet_tests.dir/test_config.cpp.o"
  "CMakeFiles/izhinet_tests.dir/test_config.cpp.o.d"
  "CMakeFiles/izhinet_tests.dir/test_engine.cpp.o"
  "CMakeFiles/izhinet_tests.dir/test_engine.cpp.o.d"
  "izhinet_tests"
  "izhinet_tests.pdb"
  "izhinet_tests[1]_tests.cmake"
)

# Per-language clean rules from dependency scanning.
foreach(lang CXX)
  include(CMakeFiles/izhinet_tests.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
