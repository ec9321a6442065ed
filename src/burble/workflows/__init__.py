"""Backend workflows (docs/workflows.md): API workflows and custom events compiled from the
app definition, and the engine that runs them in one transaction per run."""

from burble.workflows.builtin import default_registry
from burble.workflows.compile import Builder, compile_workflows
from burble.workflows.engine import Engine, Frame, Outcome, Run
from burble.workflows.model import Action, CustomEvent, Step, Workflow, Workflows
from burble.workflows.parameters import detect_types
from burble.workflows.registry import ActionKind, Registry

__all__ = [
    "Action",
    "ActionKind",
    "Builder",
    "CustomEvent",
    "Engine",
    "Frame",
    "Outcome",
    "Registry",
    "Run",
    "Step",
    "Workflow",
    "Workflows",
    "compile_workflows",
    "default_registry",
    "detect_types",
]
