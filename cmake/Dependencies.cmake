# LLVM + MLIR 19, protobuf, ONNX, fmt (see docs/architecture.md and
# ../shared/docs/toolchain.md for why things are done this way).
find_package(MLIR REQUIRED CONFIG
  HINTS /usr/lib/llvm-19/lib/cmake/mlir)
message(STATUS "MLIR ${LLVM_PACKAGE_VERSION} from ${MLIR_DIR}")

list(APPEND CMAKE_MODULE_PATH "${MLIR_CMAKE_DIR}" "${LLVM_CMAKE_DIR}")
set(LLVM_RUNTIME_OUTPUT_INTDIR ${CMAKE_BINARY_DIR}/bin)
set(LLVM_LIBRARY_OUTPUT_INTDIR ${CMAKE_BINARY_DIR}/lib)
set(MLIR_BINARY_DIR ${CMAKE_BINARY_DIR})
include(TableGen)
include(AddLLVM)
include(AddMLIR)

# Debian ships the imported targets for RelWithDebInfo only.
set(CMAKE_MAP_IMPORTED_CONFIG_RELEASE RelWithDebInfo Release "")
set(CMAKE_MAP_IMPORTED_CONFIG_DEBUG RelWithDebInfo Debug "")
set(CMAKE_MAP_IMPORTED_CONFIG_MINSIZEREL RelWithDebInfo MinSizeRel "")

include_directories(SYSTEM ${LLVM_INCLUDE_DIRS} ${MLIR_INCLUDE_DIRS})
include_directories(${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR})
add_definitions(${LLVM_DEFINITIONS})

# Protobuf must be found before ONNX (ONNX's config refers to its targets).
find_package(Protobuf REQUIRED)
find_package(ONNX REQUIRED)
find_package(fmt REQUIRED)

# All MLIR/LLVM code links the shared libraries (fast links, one LLVM).
set(LATHE_MLIR_LIBS MLIR LLVM)

find_package(CUDAToolkit QUIET)
