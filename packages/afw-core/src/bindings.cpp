#include <nanobind/nanobind.h>

#include "osprey/afw/abi.h"

void bind_wcs(nanobind::module_& m);  // src/wcs.cpp

void bind_table(nanobind::module_& m);

void bind_statistics(nanobind::module_& m);  // src/statistics.cpp
void bind_background(nanobind::module_& m);  // src/background.cpp
void bind_detection(nanobind::module_& m);   // src/detection.cpp (+ src/footprint.cpp)
void bind_convolve(nanobind::module_& m);    // src/convolve.cpp
void bind_warp(nanobind::module_& m);        // src/warp.cpp

NB_MODULE(_afw, m) {
    m.doc() = "Private compiled kernels of osprey.afw; use the Python API.";
    m.attr("header_abi_version") = osprey::afw::header_abi_version;
    bind_wcs(m);
    bind_table(m);
    bind_statistics(m);
    bind_background(m);
    bind_detection(m);
    bind_convolve(m);
    bind_warp(m);
}
