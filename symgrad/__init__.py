"""symgrad: derive, prove and generate code for the gradients of a computation graph."""

from .derivation import Derivation
from .errors import SpecError
from .graph import Model
from .spec import load, loads

__all__ = ["Derivation", "Model", "SpecError", "load", "loads"]
__version__ = "0.1.0"
