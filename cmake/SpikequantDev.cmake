# SPDX-FileCopyrightText: 2026 spikequant authors
# SPDX-License-Identifier: MIT
# Helpers for spikequant's own tests, benchmarks, examples and tools (top-level builds only).

set(SPIKEQUANT_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion)
set(SPIKEQUANT_SANITIZER_FLAGS -fsanitize=address,undefined -fno-omit-frame-pointer
    -fno-sanitize-recover=undefined)

# CMake 3.25 does not know cuda_std_20 with nvcc 13: pass the standard to nvcc directly.
set(SPIKEQUANT_CUDA_FLAGS -std=c++20 --expt-relaxed-constexpr -Xcompiler=-Wall
    -Xcudafe=--diag_suppress=20012 -lineinfo)

#! Applies the project's warning, sanitizer and CUDA flags to a target of ours.
function(spikequant_configure_target target)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:CXX>:${SPIKEQUANT_WARNINGS}>
    $<$<COMPILE_LANGUAGE:CUDA>:${SPIKEQUANT_CUDA_FLAGS}>)
  target_compile_definitions(${target} PRIVATE
    SPIKEQUANT_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  if(SPIKEQUANT_SANITIZE)
    # GCC 12 at -O1 with sanitizers reports -Wmaybe-uninitialized inside libstdc++'s <regex>
    # (std::function in _State); a known false positive, silenced in sanitizer builds only.
    target_compile_options(${target} PRIVATE
      $<$<COMPILE_LANGUAGE:CXX>:${SPIKEQUANT_SANITIZER_FLAGS} -Wno-maybe-uninitialized>)
    target_link_options(${target} PRIVATE ${SPIKEQUANT_SANITIZER_FLAGS})
  endif()
endfunction()

if(SPIKEQUANT_BUILD_TESTS)
  find_package(doctest REQUIRED)
  include(doctest)
  # One compiled doctest main shared by all CPU test programs.
  add_library(spikequant_doctest_main OBJECT ${PROJECT_SOURCE_DIR}/test/common/doctest_main.cpp)
  target_link_libraries(spikequant_doctest_main PUBLIC doctest::doctest)
  target_compile_features(spikequant_doctest_main PUBLIC cxx_std_20)
  spikequant_configure_target(spikequant_doctest_main)
endif()

#! spikequant_add_test(NAME <name> SOURCES <files...> [LIBS <targets...>])
#! A doctest program whose test cases are each registered with CTest.
function(spikequant_add_test)
  cmake_parse_arguments(ARG "" "NAME" "SOURCES;LIBS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SOURCES})
  target_link_libraries(${ARG_NAME} PRIVATE spikequant_doctest_main spikequant::cpu ${ARG_LIBS})
  target_include_directories(${ARG_NAME} PRIVATE ${PROJECT_SOURCE_DIR}/test)
  spikequant_configure_target(${ARG_NAME})
  # ADD_LABELS: a doctest test suite becomes a CTest label (suite "slow" -> label slow).
  doctest_discover_tests(${ARG_NAME} TEST_PREFIX "${ARG_NAME}/" ADD_LABELS 1
    PROPERTIES ENVIRONMENT "SPIKEQUANT_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
endfunction()

#! spikequant_add_cuda_test(NAME <name> SOURCES <files...> [LIBS <targets...>] [NO_SIMT])
#! A doctest program for GPU code, built twice from the same sources:
#! - <name> by nvcc (when it exists): without a device it prints "skipped" and exits 77, which
#!   CTest reports as Skipped (label gpu);
#! - <name>_simt by the host compiler on the SIMT emulator (label simt), run everywhere the
#!   toolkit's headers are (NO_SIMT: code the emulator cannot run, such as cuBLASLt).
function(spikequant_add_cuda_test)
  cmake_parse_arguments(ARG "NO_SIMT" "NAME" "SOURCES;LIBS" ${ARGN})
  if(SPIKEQUANT_HAS_CUDA)
    add_executable(${ARG_NAME} ${ARG_SOURCES} ${PROJECT_SOURCE_DIR}/test/common/gpu_main.cpp)
    target_link_libraries(${ARG_NAME} PRIVATE doctest::doctest spikequant::cpu spikequant::cuda ${ARG_LIBS})
    target_include_directories(${ARG_NAME} PRIVATE ${PROJECT_SOURCE_DIR}/test)
    set_target_properties(${ARG_NAME} PROPERTIES CUDA_SEPARABLE_COMPILATION OFF)
    spikequant_configure_target(${ARG_NAME})
    add_test(NAME ${ARG_NAME} COMMAND ${ARG_NAME})
    set_tests_properties(${ARG_NAME} PROPERTIES SKIP_RETURN_CODE 77 LABELS gpu)
  endif()
  if(NOT ARG_NO_SIMT AND SPIKEQUANT_BUILD_SIMT AND CUDAToolkit_FOUND)
    spikequant_add_simt_program(${ARG_NAME}_simt
      SOURCES ${ARG_SOURCES} ${PROJECT_SOURCE_DIR}/test/common/gpu_main.cpp LIBS ${ARG_LIBS})
    add_test(NAME ${ARG_NAME}_simt COMMAND ${ARG_NAME}_simt)
    set_tests_properties(${ARG_NAME}_simt PROPERTIES LABELS simt)
  endif()
endfunction()

#! spikequant_add_simt_program(<target> SOURCES <files...> [LIBS <targets...>])
#! An executable whose .cu sources are compiled as C++ against the SIMT emulator (each .cu is
#! included from a generated .cpp, so the same file can also belong to an nvcc target).
function(spikequant_add_simt_program target)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS" ${ARGN})
  set(sources "")
  foreach(src ${ARG_SOURCES})
    get_filename_component(abs ${src} ABSOLUTE)
    if(abs MATCHES "\\.cu$")
      get_filename_component(stem ${abs} NAME_WE)
      set(wrapper ${CMAKE_CURRENT_BINARY_DIR}/simt/${target}/${stem}.cpp)
      file(WRITE ${wrapper}.in "#include \"${abs}\"\n")
      configure_file(${wrapper}.in ${wrapper} COPYONLY)
      list(APPEND sources ${wrapper})
    else()
      list(APPEND sources ${abs})
    endif()
  endforeach()
  add_executable(${target} ${sources})
  target_link_libraries(${target} PRIVATE spikequant::cpu spikequant::simt ${ARG_LIBS})
  if(TARGET doctest::doctest)
    target_link_libraries(${target} PRIVATE doctest::doctest)
  endif()
  target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR}/test)
  spikequant_configure_target(${target})
endfunction()
