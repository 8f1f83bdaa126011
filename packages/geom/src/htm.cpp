#include <nanobind/nanobind.h>
namespace nb = nanobind;
void bind_htm(nb::module_& m) { (void)m; }
