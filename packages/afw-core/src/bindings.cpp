#include <nanobind/nanobind.h>

#include "osprey/afw/abi.h"

NB_MODULE(_afw, m) {
    m.doc() = "Private compiled kernels of osprey.afw; use the Python API.";
    m.attr("header_abi_version") = osprey::afw::header_abi_version;
}
