#pragma once
/// \file build_info.hpp
/// Facts fixed when izhinet was built, from the definitions CMake gives
/// izhinet's own targets (IZHINET_BUILD_DEFINITIONS in CMakeLists.txt), and
/// the commit and dirty flag (cmake/izhinet_git.cmake) from a generated
/// source. Private to src/.
#ifndef IZHINET_COMPILER
#error "build_info.hpp needs IZHINET_BUILD_DEFINITIONS (CMakeLists.txt)"
#endif

namespace izhinet::build_info {

/// Short hash of HEAD, or "unknown"; and whether tracked files differed from it. In the generated
/// build_git.cpp (cmake/build_git.cpp.in), so that a commit recompiles one file.
extern const char* const git_commit;
extern const bool git_dirty;
inline constexpr const char* compiler = IZHINET_COMPILER;            ///< e.g. "GNU 12.2.0"
inline constexpr const char* flags = IZHINET_CXX_FLAGS;              ///< compile flags of the library
inline constexpr const char* build_type = IZHINET_BUILD_TYPE;        ///< Release, Debug, ...
inline constexpr const char* cpu_target = IZHINET_ARCH_DESCRIPTION;  ///< the CPU target (IZHINET_ARCH)
inline constexpr const char* cuda = IZHINET_CUDA_DESCRIPTION;  ///< the CUDA backend: ON (nvcc x, archs) or OFF (why)

}  // namespace izhinet::build_info
