// Public C++ of osprey-ip-isr: header-only, found by other packages through
// osprey.ip.isr.get_include(). Bump when an inline type changes layout.
#pragma once

namespace osprey::ip::isr {
inline constexpr int header_abi_version = 1;
}
