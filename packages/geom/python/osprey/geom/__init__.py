"""Osprey geometry: planar and spherical types, regions, pixelizations and skymaps."""
