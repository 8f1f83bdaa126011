#include <nanobind/nanobind.h>
namespace nb = nanobind;
void bind_healpix(nb::module_& m) { (void)m; }
