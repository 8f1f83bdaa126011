// The one extension module of osprey-geom. Each area binds its kernels in its own
// translation unit (small compile units keep editable rebuilds fast); this file only
// gathers them.
#include <nanobind/nanobind.h>

namespace nb = nanobind;

void bind_sphere(nb::module_& m);     // src/sphere.cpp: vectors, separations, region containment
void bind_htm(nb::module_& m);        // src/htm.cpp: HTM indexing, envelope and interior
void bind_cartesian(nb::module_& m);  // src/cartesian.cpp: affine transforms of point arrays
void bind_healpix(nb::module_& m);    // src/healpix.cpp: HEALPix nest/ring indexing

NB_MODULE(_geom, m) {
    m.doc() = "Private compiled kernels of osprey.geom; use the Python API instead.";
    bind_sphere(m);
    bind_htm(m);
    bind_cartesian(m);
    bind_healpix(m);
}
