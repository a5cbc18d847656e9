# CPU and GPU targets of the build.
#
# IZHINET_ARCH (CPU):
#   portable  (default) x86-64-v3 on x86-64 (AVX2 and FMA: every x86 server
#             CPU since 2013-2015, Intel Haswell and AMD Zen), the compiler's
#             own default on other processors;
#   native    the build machine's CPU (-march=native): fastest there, but the
#             binary may die with "illegal instruction" on another node;
#   none      no -march flag at all (the compiler's default, x86-64 baseline);
#   anything else is passed as -march=<value> (x86-64-v2, x86-64-v4,
#   skylake-avx512, znver4, ...).
# Sets IZHINET_ARCH_FLAGS (compile options) and IZHINET_ARCH_DESCRIPTION.
include(CheckCXXCompilerFlag)
include(CheckCXXSourceRuns)

function(izhinet_resolve_arch)
  set(choice "${IZHINET_ARCH}")
  set(march "")
  if(choice STREQUAL "portable")
    if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
      set(march "x86-64-v3")
    endif()
  elseif(choice STREQUAL "native")
    set(march "native")
  elseif(NOT choice STREQUAL "none")
    set(march "${choice}")
  endif()
  set(flags "")
  set(desc "${choice}")
  if(march)
    check_cxx_compiler_flag("-march=${march}" IZHINET_MARCH_OK_${march})
    if(NOT IZHINET_MARCH_OK_${march})
      message(FATAL_ERROR "IZHINET_ARCH=${choice}: the compiler does not accept -march=${march} "
                          "(valid: portable, native, none, or a -march value this compiler knows)")
    endif()
    set(flags "-march=${march}")
    set(desc "${choice} (-march=${march})")
    # Can this machine run what it builds? (tests and tools/main_job.sh run here)
    if(march MATCHES "^x86-64-v[234]$" AND NOT CMAKE_CROSSCOMPILING)
      set(CMAKE_REQUIRED_QUIET ON)
      check_cxx_source_runs("int main() { __builtin_cpu_init(); return __builtin_cpu_supports(\"${march}\") ? 0 : 1; }"
                            IZHINET_HOST_RUNS_${march})
      if(IZHINET_HOST_RUNS_${march})
        string(APPEND desc ", this machine can run it")
      else()
        string(APPEND desc ", this machine CANNOT run it")
        message(WARNING "IZHINET_ARCH=${choice} builds for ${march}, which this machine's CPU does not support: "
                        "the tests will fail here with 'illegal instruction'. Configure with "
                        "-DIZHINET_ARCH=x86-64-v2 (or native) to build for this machine.")
      endif()
    endif()
  else()
    set(desc "${choice} (the compiler's default target)")
  endif()
  set(IZHINET_ARCH_FLAGS "${flags}" PARENT_SCOPE)
  set(IZHINET_ARCH_DESCRIPTION "${desc}" PARENT_SCOPE)
endfunction()

# CUDA architectures, when the user gave none (CMAKE_CUDA_ARCHITECTURES or the
# CUDAARCHS environment variable): real code for the major architectures of
# current data-centre GPUs that this toolkit supports -- 70 (V100; toolkits
# before CUDA 13), 80 (A100; also runs on sm_86/89: A10, A40, L4, L40S), 90
# (H100, H200), 100 (B200), 120 (RTX PRO Blackwell) -- plus PTX of the highest,
# which the driver compiles for GPUs newer than all of them.
# Sets IZHINET_CUDA_DEFAULT_ARCHITECTURES.
function(izhinet_default_cuda_architectures nvcc)
  execute_process(COMMAND ${nvcc} --list-gpu-code OUTPUT_VARIABLE codes RESULT_VARIABLE rc ERROR_QUIET)
  set(archs "")
  set(highest "")
  if(rc EQUAL 0)
    foreach(a 70 80 90 100 120)
      if(codes MATCHES "sm_${a}[\r\n]")
        list(APPEND archs "${a}-real")
        set(highest ${a})
      endif()
    endforeach()
  endif()
  if(NOT highest)
    set(archs "80-real;90-real")  # nvcc too old to list its targets
    set(highest 90)
  endif()
  list(APPEND archs "${highest}-virtual")
  set(IZHINET_CUDA_DEFAULT_ARCHITECTURES "${archs}" PARENT_SCOPE)
endfunction()
