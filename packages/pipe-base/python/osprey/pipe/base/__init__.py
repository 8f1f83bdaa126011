"""Osprey pipeline framework: Tasks, pydantic configs, PipelineTasks and connections, YAML pipelines, QuantumGraph, execution and pipetask."""

from importlib.metadata import version as _version

__version__ = _version("osprey-pipe-base")

__all__ = ["__version__"]
