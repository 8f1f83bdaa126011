"""Osprey pipeline framework: Tasks, pydantic configs, PipelineTasks and connections, YAML pipelines,
QuantumGraphs and serial execution with provenance.

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
from ._executor import (
    ExecutionReport,
    QuantumReport,
    SerialGraphExecutor,
    SingleQuantumExecutor,
    package_versions,
    prepare_run,
    register_graph_dataset_types,
    write_failure_log,
    write_init_outputs,
)
from ._mp_executor import MultiprocessGraphExecutor, QuantumKilledError
from ._pipeline import Contract, Pipeline, evaluate_contract
from ._pipeline_graph import DatasetTypeNode, Edge, PipelineGraph, StepDefinition, TaskNode
from ._pipeline_task import ButlerQuantumContext, DeferredDatasetHandle, PipelineTask, QuantumContext
from ._progress import ProgressBar
from ._quantum_backed import QuantumBackedButler, aggregate_graph, run_quantum_backed
from ._quantum_graph import (
    OutputExistsError,
    Quantum,
    QuantumGraph,
    build_quantum_graph,
    config_dataset_type,
    log_dataset_type,
    metadata_dataset_type,
)
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
    "ExecutionReport",
    "FrozenConfigError",
    "InitInput",
    "InitOutput",
    "Input",
    "MultiprocessGraphExecutor",
    "NoWorkFound",
    "Output",
    "OutputExistsError",
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
    "ProgressBar",
    "Quantum",
    "QuantumBackedButler",
    "QuantumContext",
    "QuantumGraph",
    "QuantumKilledError",
    "QuantumReport",
    "Registry",
    "RegistryField",
    "SerialGraphExecutor",
    "SingleQuantumExecutor",
    "StepDefinition",
    "Struct",
    "Task",
    "TaskMetadata",
    "TaskNode",
    "__version__",
    "aggregate_graph",
    "build_quantum_graph",
    "config_dataset_type",
    "evaluate_contract",
    "log_dataset_type",
    "metadata_dataset_type",
    "package_versions",
    "periodic_logger",
    "prepare_run",
    "register_graph_dataset_types",
    "run_quantum_backed",
    "split_override",
    "timed",
    "write_failure_log",
    "write_init_outputs",
]
