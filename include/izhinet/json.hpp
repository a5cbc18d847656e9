#pragma once
/// \file json.hpp
/// The one JSON serializer of izhinet (nlohmann-json, keys in insertion
/// order) and the provenance block every JSON file carries.
///
/// Every JSON file izhinet writes (summary.json, validation.json,
/// equilibria.json, finite_size.json, runs/*.json, ...) goes through
/// write_json(), which puts a "provenance" object first:
///
/// | key | value |
/// |-----|-------|
/// | program, version | "izhinet", the project version |
/// | git_commit, git_dirty | the source commit at build time; true when tracked files differed from it |
/// | build | compiler, flags, build_type, cpu_target (IZHINET_ARCH), cuda (the CUDA backend: nvcc version and
/// architectures, or why it is off) | | libraries | versions of spdlog, toml++, nlohmann-json, cxxopts, OpenMP, glibc,
/// OpenSSL | | command_line | argv as an array of strings (null when not run from the executable) | |
/// working_directory, host | where it ran | | config_path, config_sha256 | the configuration file and the SHA-256 of
/// its bytes (null when none) | | backend, device | the backend and its device ("NVIDIA H100 ..." for CUDA); null
/// before one is chosen | | started_at, written_at | UTC ISO 8601 timestamps: process start, and when this file was
/// written |
///
/// Numbers are written in the shortest form that reads back to the same
/// double (0.1, not 0.10000000000000001); NaN and infinities become null.
#include <nlohmann/json.hpp>
#include <string>

namespace izhinet {

using json = nlohmann::ordered_json;

/// Records the command line (and the start time: call it first thing in main).
void set_command_line(int argc, const char* const* argv);
/// Records the configuration file and hashes its bytes.
void set_config_source(const std::string& path, const std::string& text);
/// Records the backend and device of this run.
void set_device(const std::string& backend, const std::string& device);
/// The provenance object described above, with written_at = now.
json provenance();
/// "2026-11-27T21:09:51.123Z" for the current time.
std::string utc_timestamp();
/// SHA-256 of `bytes`, as 64 lowercase hex digits.
std::string sha256_hex(const std::string& bytes);

/// Writes {"provenance": provenance(), ...body} to `path` (body must be an
/// object), indented by 2, atomically and checked (io_error).
void write_json(const std::string& path, const json& body);
/// The same for a status file after an error: atomically if possible, else
/// rewritten in place (a full disk has no room for a temporary copy). Never
/// throws; returns false (and logs a warning) when the file could not be written.
bool write_json_after_error(const std::string& path, const json& body) noexcept;

}  // namespace izhinet
