#pragma once
/// \file build_info.hpp
/// Facts fixed when izhinet was built, from a file CMake regenerates at every
/// build (cmake/build_info.cmake): the commit, whether the tree was dirty,
/// the compiler and its flags.
namespace izhinet::build_info {

extern const char* const git_commit;    ///< full hash of HEAD, or "unknown" outside a git checkout
extern const bool git_dirty;            ///< tracked files differed from HEAD
extern const char* const compiler;      ///< e.g. "GNU 12.2.0"
extern const char* const flags;         ///< compile flags of the library
extern const char* const build_type;    ///< Release, Debug, ...
extern const char* const cuda_toolkit;  ///< CUDA toolkit version, "" without the CUDA backend

}  // namespace izhinet::build_info
