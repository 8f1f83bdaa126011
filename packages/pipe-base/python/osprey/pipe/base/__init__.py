"""Osprey pipeline framework: Tasks, pydantic configs, PipelineTasks and connections, YAML pipelines.

Not lifted here: ``osprey.pipe.base.testing`` (the test kit; import it by full path) and the
building blocks of the pipeline graph nodes, which `PipelineGraph` returns.
"""

from importlib.metadata import version as _version

from ._connection_types import (
    BaseConnection,
    BaseInput,
    DimensionedConnection,
    InitInput,
    InitOutput,
    Input,
    Output,
    PrerequisiteInput,
)
from ._connections import PipelineTaskConnections
from ._pipeline import Contract, Pipeline, evaluate_contract
from ._pipeline_graph import DatasetTypeNode, Edge, PipelineGraph, StepDefinition, TaskNode
from ._pipeline_task import ButlerQuantumContext, DeferredDatasetHandle, PipelineTask, QuantumContext
from ._struct import Struct
from ._task import PeriodicLogger, Task, periodic_logger, timed
from ._task_metadata import TaskMetadata
from .config import (
    Config,
    ConfigurableField,
    ConnectionsConfig,
    PipelineTaskConfig,
    Registry,
    RegistryField,
    split_override,
)
from .errors import (
    AlgorithmError,
    AnnotatedPartialOutputsError,
    ConfigError,
    ConnectionsDefinitionError,
    ContractError,
    DatasetTypeConflictError,
    FrozenConfigError,
    NoWorkFound,
    PipeBaseError,
    PipelineCycleError,
    PipelineError,
    PrerequisiteMissingError,
)

__version__ = _version("osprey-pipe-base")

__all__ = [
    "AlgorithmError",
    "AnnotatedPartialOutputsError",
    "BaseConnection",
    "BaseInput",
    "ButlerQuantumContext",
    "Config",
    "ConfigError",
    "ConfigurableField",
    "ConnectionsConfig",
    "ConnectionsDefinitionError",
    "Contract",
    "ContractError",
    "DatasetTypeConflictError",
    "DatasetTypeNode",
    "DeferredDatasetHandle",
    "DimensionedConnection",
    "Edge",
    "FrozenConfigError",
    "InitInput",
    "InitOutput",
    "Input",
    "NoWorkFound",
    "Output",
    "PeriodicLogger",
    "PipeBaseError",
    "Pipeline",
    "PipelineCycleError",
    "PipelineError",
    "PipelineGraph",
    "PipelineTask",
    "PipelineTaskConfig",
    "PipelineTaskConnections",
    "PrerequisiteInput",
    "PrerequisiteMissingError",
    "QuantumContext",
    "Registry",
    "RegistryField",
    "StepDefinition",
    "Struct",
    "Task",
    "TaskMetadata",
    "TaskNode",
    "__version__",
    "evaluate_contract",
    "periodic_logger",
    "split_override",
    "timed",
]
