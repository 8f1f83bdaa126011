// Private: a second copy of the hottest kernels built for x86-64-v3 (AVX2, FMA), chosen at
// load time (GCC ifunc) when the CPU has it; the baseline copy runs everywhere else. meson.build
// passes -ffp-contract=off, so neither copy fuses a*b+c and both round like numpy.
#pragma once

#if defined(__x86_64__) && defined(__linux__) && defined(__GNUC__) && !defined(__clang__)
#define OSPREY_ISR_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define OSPREY_ISR_CLONES
#endif
