// Public C++ of osprey-afw-core: header-only, found by other packages through
// osprey.afw.get_include(). Bump when an inline type changes layout.
#pragma once

namespace osprey::afw {
inline constexpr int header_abi_version = 1;
}
