file(REMOVE_RECURSE
  "CMakeFiles/izhinet.dir/src/main.cpp.o"
  "CMakeFiles/izhinet.dir/src/main.cpp.o.d"
  "izhinet"
  "izhinet.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang CXX)
  include(CMakeFiles/izhinet.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
