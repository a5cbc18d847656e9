#pragma once
/// \file build_info.hpp
/// Facts fixed when izhinet was built, from the definitions CMake gives
/// izhinet's own targets (IZHINET_BUILD_DEFINITIONS in CMakeLists.txt; the
/// commit and dirty flag from cmake/izhinet_git.cmake). Private to src/.
#ifndef IZHINET_GIT
#error "build_info.hpp needs IZHINET_BUILD_DEFINITIONS (CMakeLists.txt)"
#endif

namespace izhinet::build_info {

inline constexpr const char* git_commit = IZHINET_GIT;               ///< short hash of HEAD, or "unknown"
inline constexpr bool git_dirty = IZHINET_GIT_DIRTY != 0;            ///< tracked files differed from HEAD
inline constexpr const char* compiler = IZHINET_COMPILER;            ///< e.g. "GNU 12.2.0"
inline constexpr const char* flags = IZHINET_CXX_FLAGS;              ///< compile flags of the library
inline constexpr const char* build_type = IZHINET_BUILD_TYPE;        ///< Release, Debug, ...
inline constexpr const char* cpu_target = IZHINET_ARCH_DESCRIPTION;  ///< the CPU target (IZHINET_ARCH)
inline constexpr const char* cuda = IZHINET_CUDA_DESCRIPTION;  ///< the CUDA backend: ON (nvcc x, archs) or OFF (why)

}  // namespace izhinet::build_info
