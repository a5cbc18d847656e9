# Commit and dirty flag of the source tree, fixed into the build.
#
# Sets IZHINET_GIT_COMMIT (short hash, or "unknown" outside a git checkout)
# and IZHINET_GIT_DIRTY_FLAG (1 when a tracked file differs from the commit,
# else 0). CMake re-runs its configure step, and so refreshes both, when HEAD,
# the branch it points to or the index change (a commit, checkout, reset or
# `git add`), and, while the tree is clean, when any tracked file is edited:
# a binary never claims a clean commit it was not built from.
function(izhinet_git_info source_dir)
  set(commit "unknown")
  set(dirty 0)
  find_package(Git QUIET)
  if(GIT_FOUND)
    execute_process(COMMAND ${GIT_EXECUTABLE} rev-parse --short=12 HEAD WORKING_DIRECTORY ${source_dir}
                    OUTPUT_VARIABLE out RESULT_VARIABLE rc ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
    if(rc EQUAL 0 AND out)
      set(commit "${out}")
      # --no-optional-locks: do not refresh the index here (it is a configure dependency).
      execute_process(COMMAND ${GIT_EXECUTABLE} --no-optional-locks status --porcelain --untracked-files=no
                      WORKING_DIRECTORY ${source_dir} OUTPUT_VARIABLE status ERROR_QUIET)
      if(NOT status STREQUAL "")
        set(dirty 1)
      endif()
      set(deps "")
      execute_process(COMMAND ${GIT_EXECUTABLE} symbolic-ref -q HEAD WORKING_DIRECTORY ${source_dir}
                      OUTPUT_VARIABLE ref ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
      foreach(name HEAD index packed-refs ${ref})
        execute_process(COMMAND ${GIT_EXECUTABLE} rev-parse --git-path ${name} WORKING_DIRECTORY ${source_dir}
                        OUTPUT_VARIABLE path ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
        if(path)
          get_filename_component(path "${path}" ABSOLUTE BASE_DIR "${source_dir}")
          if(EXISTS "${path}")
            list(APPEND deps "${path}")
          endif()
        endif()
      endforeach()
      if(NOT dirty)
        execute_process(COMMAND ${GIT_EXECUTABLE} ls-files WORKING_DIRECTORY ${source_dir} OUTPUT_VARIABLE files
                        ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
        string(REPLACE "\n" ";" files "${files}")
        foreach(f ${files})
          if(EXISTS "${source_dir}/${f}" AND NOT IS_DIRECTORY "${source_dir}/${f}")
            list(APPEND deps "${source_dir}/${f}")
          endif()
        endforeach()
      endif()
      set_property(DIRECTORY ${source_dir} APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${deps})
    endif()
  endif()
  set(IZHINET_GIT_COMMIT "${commit}" PARENT_SCOPE)
  set(IZHINET_GIT_DIRTY_FLAG ${dirty} PARENT_SCOPE)
endfunction()
