# SPDX-FileCopyrightText: 2026 spikequant authors
# SPDX-License-Identifier: MIT
# Finds the SentencePiece library (Debian: libsentencepiece-dev) through pkg-config, falling
# back to a plain header/library search.
#
# Defines SentencePiece_FOUND and the imported target SentencePiece::SentencePiece, which
# also defines SPIKEQUANT_WITH_SENTENCEPIECE=1 so that spikequant/io/tokenizer.hpp enables
# tokenizer.model support. Only targets that link it depend on SentencePiece.

find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND)
  pkg_check_modules(PC_SentencePiece QUIET sentencepiece)
endif()

find_path(SentencePiece_INCLUDE_DIR sentencepiece_processor.h
  HINTS ${PC_SentencePiece_INCLUDEDIR} ${PC_SentencePiece_INCLUDE_DIRS})
find_library(SentencePiece_LIBRARY NAMES sentencepiece
  HINTS ${PC_SentencePiece_LIBDIR} ${PC_SentencePiece_LIBRARY_DIRS})
set(SentencePiece_VERSION ${PC_SentencePiece_VERSION})

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(SentencePiece
  REQUIRED_VARS SentencePiece_LIBRARY SentencePiece_INCLUDE_DIR
  VERSION_VAR SentencePiece_VERSION)

if(SentencePiece_FOUND AND NOT TARGET SentencePiece::SentencePiece)
  add_library(SentencePiece::SentencePiece UNKNOWN IMPORTED)
  set_target_properties(SentencePiece::SentencePiece PROPERTIES
    IMPORTED_LOCATION "${SentencePiece_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${SentencePiece_INCLUDE_DIR}"
    INTERFACE_COMPILE_DEFINITIONS "SPIKEQUANT_WITH_SENTENCEPIECE=1")
  find_package(Threads QUIET)
  if(TARGET Threads::Threads)
    set_property(TARGET SentencePiece::SentencePiece APPEND PROPERTY
      INTERFACE_LINK_LIBRARIES Threads::Threads)
  endif()
endif()
mark_as_advanced(SentencePiece_INCLUDE_DIR SentencePiece_LIBRARY)
