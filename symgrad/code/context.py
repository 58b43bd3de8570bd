r"""The template context of the generated module: every name, shape and expression, printed.

The flow: a :class:`~symgrad.calculus.derivation.Derivation` -> :func:`build_context`
(:mod:`symgrad.code.render`), where every name, shape and expression is decided and printed
(common subexpressions eliminated, stable forms of the cost written in) -> a
:class:`CodeContext` of plain strings -> the Jinja templates in ``templates/``, which only lay it
out. The generated module imports NumPy and the standard
library only.

A model with ``[layers]`` goes through :mod:`symgrad.code.layers_context` instead: the same
printing, into a context whose forward and backward loop over the layers
(``model_layers.py.jinja``; a plain model's parameters are laid out by
``model_plain.py.jinja``).

The text is already in ``ruff format`` style (expressions are laid out by :func:`layout`), so the
same spec gives the same bytes whether or not a formatter is installed.
"""

from __future__ import annotations

import ast
import builtins
import re
import textwrap
from dataclasses import dataclass

import sympy as sp

from .._version import __version__
from ..calculus.chain import adjoint_symbol
from ..calculus.stable_forms import log_Phi, logsumexp, mills, stable_form
from ..model import naming
from ..model.errors import SpecError
from ..model.escape import python_string
from ..model.graph import M
from ..model.ops import (
    Phi,
    batch_mean,
    clip,
    colsum,
    dropout,
    leaky_relu,
    matmul,
    relu,
    rowsum,
    sigmoid,
    softmax,
    softplus,
    total,
    transpose,
)
from ..model.shapes import SCALAR, shape_of
from ..printing.printers import NumpyPrinter, batch_str, example_str

MODEL_TEMPLATE = "model_plain.py.jinja"  # parameters named one by one in the spec
# ruff format's default line length: output formatted for it is also formatted for longer ones
LINE_LENGTH = 88
HIDDEN_SIZE = 4  # default units of a dimension that the data does not fix (n_h = 4 in the course)
RANDOM_SCALE = 0.01  # initialize_parameters(method="random"): N(0, 1) * 0.01, as in the course
# xp: the arrays' library (array_namespace() of the module); terms as the derivation reads
PRINTER_SETTINGS = {"numpy_alias": "xp", "array_api": True, "order": "none"}

# The functions the module defines, in the order it defines them (macros of functions.py.jinja).
HELPERS = (
    (sigmoid, "sigmoid"),
    (softplus, "softplus"),
    (relu, "relu"),
    (leaky_relu, "leaky_relu"),
    (sp.erf, "erf"),
    (Phi, "Phi"),
    (log_Phi, "log_Phi"),
    (mills, "mills"),
    (softmax, "softmax"),
    (dropout, "dropout"),
    (logsumexp, "logsumexp"),
)

# Names the module defines at its top level, the arguments of the functions whose bodies
# are derived (forward, cost_from_cache, backward), and what a hyperparameter becomes besides:
# a keyword argument of train() (beside its own arguments and the names its loop sets) and an
# option of the command line (beside its options): no name from a spec may take them.
TEMPLATE_NAMES = frozenset({
    "np", "argparse", "math", "os", "stat", "sys", "tempfile", "warnings", "zipfile", "zlib",
    "Path", "params", "cache", "X", "Y", "m",
    "num_iterations", "learning_rate", "print_cost", "seed", "dims", "layer_dims", "costs",
    "cost", "grads", "i", "data", "iterations", "save", "layers", "command", "args", "parser",
    "DataError", "PARAMETER_SHAPES", "HIDDEN_SIZES", "FEATURES", "LABEL_SIZE", "MEMORY_LIMIT",
    "initialize_parameters", "forward", "cost_from_cache", "compute_cost", "backward",
    "propagate", "update_parameters", "data_dims", "train", "predict", "labels_from_array",
    "labels_from_column", "check_labels", "summary", "error_line", "ArgumentParser",
    "at_least", "finite_number", "positive_number", "check_memory", "model_size",
    "read_arrays", "array_header", "load_data", "check_parameters", "load_parameters",
    "check_save", "save_parameters", "main", "INPUTS", "LABELS", "number_in", "rng", "time",
    "SCALES", "WEIGHTS", "types", "NUMPY", "reduce_sum", "reduce_max",
    # course 2's optimisers and learning-rate schedules, defined at the top level
    "OPTIMIZERS", "DECAYS", "gradient_key", "random_mini_batches", "update_parameters_with_gd",
    "initialize_velocity", "update_parameters_with_momentum", "initialize_rmsprop",
    "update_parameters_with_rmsprop", "initialize_adam", "update_parameters_with_adam",
    "update_lr", "schedule_lr_decay", "exponential_lr_decay", "learning_rate_schedule",
    "progress_line", "check_clip_bounds", "array_namespace", "astype", "xp", "copy_arrays",
    "gd_step", "momentum_step", "rmsprop_step", "adam_step", "seeded",
    # a model with batch statistics: what predict() normalizes with, kept in params
    "STATISTIC_SHAPES", "without_statistics", "with_statistics",
    # training on the Gram matrix (fast.py.jinja)
    "TECHNIQUES", "GRAM_WEIGHTS", "choose_technique", "gram_pays", "gram_reduce", "gram_rebuild",
    "gram_moved", "cholesky_upper", "times_inverse",
}) | frozenset(name for _, name in HELPERS) | frozenset(dir(builtins))
# train()'s options and the names its loop and main() set: a hyperparameter (a keyword argument
# of train()) or a size (an option, --n_h) may not take them; a parameter or a node may (their
# names are set only in forward() and backward(), and are keys of the dicts that train() passes).
TRAINING_NAMES = frozenset({
    "optimizer", "mini_batch_size", "beta", "beta1", "beta2", "epsilon", "learning_rate_decay",
    "decay_rate", "time_interval", "validation", "early_stopping", "tol", "cost_every",
    "progress", "history", "decay", "velocity", "squares", "adam_steps", "epoch_rate",
    "epoch_cost", "batches", "best", "stale", "start", "shown", "stopped", "monitored",
    "m_total", "line", "validation_costs", "missing", "differ", "X_batch", "Y_batch",
    "inputs_batch", "labels_batch", "err", "trained", "technique", "why", "basis", "X_train",
    "reduced", "moved", "shuffler",
})
# What a module of several inputs or labels takes and defines besides (it has no X and Y).
NAMED_NAMES = frozenset({
    "inputs", "labels", "named_arrays", "check_domain", "INPUT_ROWS", "LABEL_ROWS",
    "LABEL_DOMAINS", "array", "name", "rows", "key", "where", "arrays", "value", "domain",
    "CONSTANTS", "CONSTANT_SHAPES", "CONSTANT_DOMAINS", "shape", "size", "actual", "expected",
    "inputs_batch", "labels_batch", "example_columns",
})


# ----- the context handed to the templates -----


@dataclass(frozen=True)
class Statement:
    target: str
    code: str
    comments: tuple[str, ...] = ()  # comment lines written above the statement
    # a batch statistic in forward(): taken from params where train() stored it there
    stored: bool = False


@dataclass(frozen=True)
class Function:
    loads: tuple[Statement, ...]  # w = params["w"], Z = cache["Z"], m = X.shape[1]
    body: tuple[Statement, ...]


@dataclass(frozen=True)
class Parameter:
    name: str
    grad: str  # the key of its gradient: dw
    shape: str  # a Python literal: ("n_x", 1), or () for a float
    text: str  # for people: "(n_x, 1) array" or "float"
    fan_in: str | None = None  # a weight (a factor of a matmul): the units it reads; None: a bias
    scale: bool = False  # not a weight, but a factor of a product with the data: starts at 1


@dataclass(frozen=True)
class Hyperparameter:
    name: str
    default: str  # a Python literal: the spec's default (0.0 where it gives none: lambd=0.0)
    help: str  # a Python string literal
    type: str  # the command line's argparse type: finite_number, or number_in(...)


@dataclass(frozen=True)
class LabelCheck:
    """How the command line checks a label's values: a test of ``array`` (code)."""

    domain: str  # a Python string literal: the domain's name
    test: str  # code, in `array`: True where every value lies in the domain
    text: str  # a Python string literal: what the values must be


# The code that tests an array's values, for each domain a label may have (domains.py): each
# fits on one line of check_domain, 17 columns in ("        inside = ").
DOMAIN_TESTS = {
    "positive": "bool((array > 0).all())",
    "nonnegative": "bool((array >= 0).all())",
    "count": "bool(((array >= 0) & (array == np.round(array))).all())",
    "binary": "bool(np.isin(array, (0.0, 1.0)).all())",
    "onehot": "bool(np.isin(array, (0, 1)).all() and (array.sum(axis=0) == 1).all())",
    "probability": ("bool((array >= 0).all() and np.allclose(array.sum(axis=0), 1.0))"),
}


@dataclass(frozen=True)
class Array:
    """One of the named arrays a module with several inputs or labels takes: an input (in
    ``inputs``) or a label (in ``labels``), one column per example."""

    name: str  # its key, the spec's name: "x1"
    rows: str  # a Python literal: its rows, a dimension's name or an int
    domain: str  # its domain's name (domains.py), a Python string literal: "binary"
    text: str  # for people: "x1 (n_x, m)"


@dataclass(frozen=True)
class Constant:
    """An input that is the same for every example ([constants]): in ``inputs`` by its name,
    of its own shape (never one column per example)."""

    name: str  # its key, the spec's name: "K"
    shape: str  # a Python literal: ("n_k", "d"), ("n_y", 1), or () for a float
    domain: str  # its domain's name, a Python string literal: "positive"
    text: str  # for people: "K (n_k, d)", "T float"


@dataclass(frozen=True)
class Label:
    kind: str  # "binary", "onehot" or "real"
    template: str  # the macro file for this kind of label
    size: str  # a Python literal: the rows of Y, 1 or a dimension name ("n_y")
    rows: str  # the same for people: 1, n_y
    text: str  # for people: "binary", "onehot(n_y)", "real, scalar"


@dataclass(frozen=True)
class Layer:
    """The code of one layer: at the general index inside the loop over the hidden layers, or
    at the last index for the output layer."""

    loads: tuple[Statement, ...]  # W = params[f"W{l}"], ...
    body: tuple[Statement, ...]
    stores: tuple[Statement, ...]  # cache[f"Z{l}"] = Z, grads[f"dW{l}"] = dW
    to_previous: tuple[Statement, ...] = ()  # where there is a layer below: its dA


@dataclass(frozen=True)
class LayerParameter:
    name: str  # W
    shape: str  # a Python literal with the layer's dimension names: ("n_l", "n_prev")
    initial: str  # the code that initializes it, in n_l and n_prev: draw((n_l, n_prev), n_prev)


@dataclass(frozen=True)
class Layers:
    """A stack of layers l = 1 .. L, L read from the parameters given: the hidden layers' block
    (derived once, with the general index l) and the output layer L."""

    parameters: tuple[LayerParameter, ...]
    units: str  # the names of a layer's dimensions in LayerParameter.shape: n_l
    previous_units: str  # n_prev
    depth: str  # the variable that holds L
    count: str  # the code that computes L from params
    index: str  # the loop variable l
    input: str  # the block's input, the previous layer's output: A_prev
    output: str  # the block's output: A
    hidden_sizes: tuple[int, ...]  # units of the hidden layers for train() without params
    hidden_text: str  # the same, as --layers takes them: "20,7"
    layer_dims_text: str  # train()'s default layer_dims, for people: X.shape[0], 20, 7, 1
    grad_key: str  # an f-string's text: the gradient key of a parameter held in `name`
    keys_text: str  # the parameters' keys, for people: W1, b1, ..., WL, bL
    cache_text: str  # forward()'s keys, for people: Z1, A1, ..., ZL, AL
    forward_loads: tuple[Statement, ...]  # before the layers (depth = ...)
    hidden_forward: Layer
    output_forward: Layer
    backward_loads: tuple[Statement, ...]
    output_backward: Layer
    hidden_backward: Layer
    penalty: Layer | None = None  # layer l's penalty (layers.penalty), added to the cost


@dataclass(frozen=True)
class CodeContext:
    name: str
    model_template: str  # the macro file for the parts that follow the parameters' layout
    docstring: tuple[str, ...]  # lines, wrapped
    helpers: tuple[str, ...]  # functions.py.jinja macros to define
    parameters: tuple[Parameter, ...]
    hyperparameters: tuple[Hyperparameter, ...]
    hyper_defaults: tuple[str, ...]  # "lambd=0.0", for signatures
    hyper_args: tuple[str, ...]  # "lambd=lambd", passed on in calls
    forward_defaults: tuple[str, ...]  # the hyperparameters forward() reads: "keep=0.8"
    forward_args: tuple[str, ...]  # "keep=keep"
    training_args: tuple[str, ...]  # what forward() takes besides in training: "rng=rng"
    bounded: bool  # a hyperparameter's domain is not all reals: the CLI needs number_in()
    features: str  # a Python literal: the rows of X, "n_x" or an int
    hidden_sizes: tuple[tuple[str, int], ...]  # dimensions that the data does not fix
    default_init: str  # how train() starts without params: "zeros", "random" or "he"
    # method="course": the initialisation course 1 uses for this kind of model, as another
    # method: "zeros" (logistic regression, week 2), "random" (randn * 0.01: the shallow
    # network, week 3), "xavier" (randn / sqrt(n_prev): the L-layer model, week 4)
    course_init: str
    random_scale: float
    label: Label
    forward: Function
    outputs: tuple[str, ...]  # the cache keys returned by forward()
    cost: Function
    cost_target: str
    backward: Function
    grads: tuple[str, ...]
    prediction: str  # the variable that predict() reads into
    prediction_key: str  # a Python expression: its key in forward()'s dict
    prediction_text: str  # for people
    threshold: str  # binary labels: predict 1 where the prediction exceeds this
    probability: bool  # the prediction is a probability (a sigmoid, a softmax): predict_proba
    grad_key: str  # an f-string's text: the gradient key of a parameter held in `name`
    layers: Layers | None = None  # a stack of layers, looped over (model_layers.py.jinja)
    # Several inputs or labels (named): the functions take dicts of arrays, inputs and labels,
    # rather than X and Y; x_arg and y_arg are the arguments' names either way.
    named: bool = False
    x_arg: str = "X"
    y_arg: str = "Y"
    y_param: str = "Y"  # the labels' argument in a signature: labels=None without labels
    inputs: tuple[Array, ...] = ()
    labels: tuple[Array, ...] = ()
    input_names: str = "()"  # Python literals: the tuples INPUTS and LABELS
    label_names: str = "()"
    arrays_text: tuple[str, ...] = ()  # the docstring's lines on the named arrays
    data_help: str = '"labelled examples: .npz or .csv"'  # Python literals: --data's help
    predict_help: str = '"examples: .npz or .csv"'
    labels_text: str = "Y"  # for people, in a message: the labels
    m_code: str = "X.shape[1]"  # the number of examples, in the command line's main()
    label_checks: tuple[LabelCheck, ...] = ()  # the labels' domains the CLI checks
    # Inputs that are the same for every example (always named): in `inputs`, by name.
    constants: tuple[Constant, ...] = ()
    constant_names: str = "()"  # a Python literal: the tuple CONSTANTS
    input_keys: str = "INPUTS"  # code: the keys of `inputs` (INPUTS + CONSTANTS)
    # an f-string's text: the key in grads (and in the optimisers' v and s) of parameter `name`
    grad_key: str = naming.adjoint("{name}")
    # clip(u, lo, hi) with bounds of the hyperparameters: the arguments of check_clip_bounds
    # (lo's text, lo's code, hi's text, hi's code) for train(), for forward() (the clips whose
    # hyperparameters it reads) and for the command line (the values in args)
    clip_checks: tuple[tuple[str, ...], ...] = ()
    forward_clip_checks: tuple[tuple[str, ...], ...] = ()
    cli_clip_checks: tuple[tuple[str, ...], ...] = ()
    # batch statistics (batch_mean nodes), name -> shape (a Python literal): train() stores
    # them in params for predict(), computed over the training set with the final parameters
    statistics: tuple[tuple[str, str], ...] = ()
    # The weights that train() may train on the Gram matrix's factor in place of X (see
    # gram_weights): (key in params, whether it enters as w.T @ X rather than W @ X)
    gram_weights: tuple[tuple[str, bool], ...] = ()


# ----- rendering -----


def _hyperparameter_text(hyper) -> list[str]:
    """The docstring's lines on the hyperparameters (none without any)."""
    if not hyper:
        return []
    names = ", ".join(f"{v.name} ({', '.join(_hyperparameter_notes(v))})" for v in hyper)
    return _wrap_text(f"Hyperparameters: {names}; keyword arguments of compute_cost, backward, "
                      "propagate and train.")


def _hyperparameter_notes(v) -> list[str]:
    notes = [v.description] if v.description else []
    if not v.domain.is_real_line:
        notes.append(v.domain.text)
    return notes + [f"default {default_literal(v)}"]


def default_literal(v) -> str:
    """A hyperparameter's default as a Python literal: 0.0, 2 for a whole number."""
    return str(int(v.default)) if v.domain.integer else repr(float(v.default))


def cli_type(domain) -> str:
    """The argparse type of a hyperparameter's option: a finite number inside its domain."""
    if domain.is_real_line:
        return "finite_number"
    bounds = [repr(domain.low), repr(domain.high)]
    if domain.low is not None and not domain.low_open:
        bounds.append("low_open=False")
    if domain.high is not None and not domain.high_open:
        bounds.append("high_open=False")
    if domain.integer:
        bounds.append("integer=True")
    return f"number_in({', '.join(bounds)})"


def hyperparameter_fields(hyper, forward=(), dropout=False) -> dict:
    """The CodeContext fields on the hyperparameters, for either builder; ``forward`` are
    those that forward() reads; with ``dropout``, forward() takes the generator that draws the
    masks in training (none at predict)."""
    drawn = ("rng=None",) if dropout else ()
    return {
        "forward_defaults": tuple(f"{v.name}={default_literal(v)}" for v in forward) + drawn,
        "forward_args": tuple(f"{v.name}={v.name}" for v in forward),
        "training_args": ("rng=rng",) if dropout else (),
        "hyperparameters": tuple(Hyperparameter(
            v.name, default_literal(v),
            python_string("; ".join([v.description or v.name, *_hyperparameter_notes(v)[
                bool(v.description):]])), cli_type(v.domain)) for v in hyper),
        "hyper_defaults": tuple(f"{v.name}={default_literal(v)}" for v in hyper),
        "hyper_args": tuple(f"{v.name}={v.name}" for v in hyper),
        "bounded": any(not v.domain.is_real_line for v in hyper),
    }


def clip_fields(model, forward) -> dict:
    """The CodeContext fields on the clips whose bounds are expressions of the
    hyperparameters (bounds that are numbers are checked when the spec is read): the calls of
    check_clip_bounds that train(), forward() (``forward``: the hyperparameters it reads) and
    the command line make, so that a run refuses lo > hi."""
    hyper = {v.symbol for v in model.hyperparameters}
    bounds = []
    for node in [*model.nodes, model.cost]:
        for c in sorted(node.expr.atoms(clip), key=sp.default_sort_key):
            lo, hi = c.args[1:]
            if ((lo.free_symbols | hi.free_symbols) & hyper and (lo, hi) not in bounds
                    and not _in_order(lo, hi, model.hyperparameters)):
                bounds.append((lo, hi))
    printer = NumpyPrinter(PRINTER_SETTINGS)
    in_args = {s: sp.Symbol(f"args.{s.name}") for s in hyper}

    def calls(pairs, values=None):
        return tuple((python_string(example_str(lo)), printer.doprint(lo.xreplace(values or {})),
                      python_string(example_str(hi)), printer.doprint(hi.xreplace(values or {})))
                     for lo, hi in pairs)

    read = {v.symbol for v in forward}
    return {
        "clip_checks": calls(bounds),
        "forward_clip_checks": calls([(lo, hi) for lo, hi in bounds
                                      if (lo.free_symbols | hi.free_symbols) <= read]),
        "cli_clip_checks": calls(bounds, in_args),
    }


def _in_order(lo, hi, hyperparameters) -> bool:
    """True where the hyperparameters' domains alone put lo <= hi (-delta <= delta, delta > 0):
    no run can break the order, so nothing checks it."""
    signs = {}
    for v in hyperparameters:
        low, high = v.domain.low, v.domain.high
        assumptions = {"real": True}
        if low is not None and low >= 0:
            assumptions["positive" if low > 0 or v.domain.low_open else "nonnegative"] = True
        elif high is not None and high <= 0:
            assumptions["negative" if high < 0 or v.domain.high_open else "nonpositive"] = True
        signs[v.symbol] = sp.Dummy(v.name, **assumptions)
    return bool(sp.simplify((hi - lo).xreplace(signs)).is_nonnegative)


# ----- building the context -----


class _Builder:
    def __init__(self, derivation):
        model = derivation.model
        self.derivation, self.model = derivation, model
        graph = derivation.batch_graph
        if graph is None:
            raise SpecError(f"model '{model.name}' has no examples (no inputs and no mean(...) "
                            "in its cost): there is nothing to train on, so no code to generate",
                            file=model.source)
        self.input_vars, self.label_vars = examples(model)
        self.constant_vars = model.constants
        # one input and one label (x, y): arrays X and Y, as the course writes them; otherwise
        # (constants too) dicts of named arrays, inputs and labels
        self.named = not plain(self.input_vars, self.label_vars, self.constant_vars)
        stacked = model.stacked_names()
        self.rename = {}
        if not self.named:
            for var, fixed in ((self.input_vars[0], "X"), (self.label_vars[0], "Y")):
                old = sp.Symbol(stacked[var.name], real=True)
                if old.name != fixed:
                    self.rename[old] = sp.Symbol(fixed, real=True)
            self.feature_var, self.label_var = self.input_vars[0], self.label_vars[0]
        self.data = {v.name: self.ren(sp.Symbol(stacked[v.name], real=True))
                     for v in self.input_vars + self.label_vars}  # spec name -> stacked
        # dropout's keep-masks, stacked (D1) -> their keep probability's symbol
        self.masks = {sp.Symbol(stacked[v.name], real=True): model.variables[v.keep].symbol
                      for v in model.masks}
        self.graph = graph
        self.nodes = [(self.ren(s), self.ren(e)) for s, e in graph.nodes]
        self.shapes = {self.ren(s): shape for s, shape in graph.shapes.items()}
        self.params = [v for v in model.parameters]
        self.hyper = [v for v in model.hyperparameters]
        self.param_symbols = {v.symbol for v in self.params}
        self.scalars = {v.symbol for v in self.params + self.hyper + self.constant_vars
                        if v.shape == SCALAR} | {M}
        self.X, self.Y = sp.Symbol("X", real=True), sp.Symbol("Y", real=True)
        # nodes that the labels reach are the cost's; the others are forward()'s
        # (without labels, as in an autoencoder, the loss and what follows it are the cost's)
        labelled = {self.data[v.name] for v in self.label_vars} | {self.ren(graph.output)}
        if not self.label_vars and model.loss is not None:
            labelled.add(self.ren(sp.Symbol(naming.stacked(model.loss.name), real=True)))
        for s, e in self.nodes:
            if e.free_symbols & labelled:
                labelled.add(s)
        self.cost_nodes = [(s, e) for s, e in self.nodes if s in labelled]
        self.forward_nodes = [(s, e) for s, e in self.nodes if s not in labelled]
        self._check_names()

    def ren(self, expr):
        return expr.xreplace(self.rename) if self.rename else expr

    def _check_names(self):
        spec_name = {v: k for k, v in self.model.stacked_names().items()}  # Z -> z
        owners = {}  # a name in the code -> the spec's name it comes from
        for v in self.params + self.hyper:
            owners[v.name] = v.name
        for v in self.params:
            owners[naming.adjoint(v.name)] = v.name
        for s, _ in self.graph.nodes:  # the inputs, X and Y in the code, are not among them
            owners[s.name] = owners[adjoint_symbol(s).name] = spec_name.get(s.name, s.name)
        for d in self.model.dims:  # a size the data does not fix is an option: --n_h
            owners[d] = d
        taken = TEMPLATE_NAMES
        if self.named:  # the arrays are named after the inputs and labels: X1, Mask
            for name, symbol in self.data.items():
                owners[symbol.name] = name
            for v in self.constant_vars:  # a constant keeps its name
                owners[v.name] = v.name
            taken = (taken - {"X", "Y"}) | NAMED_NAMES
        refuse_taken(self.model, owners, taken)
        options = {v.name: v.name for v in self.hyper} | {d: d for d in self.model.dims}
        refuse_taken(self.model, options, TRAINING_NAMES)
        self.taken = set(self.model.variables) | set(owners) | taken | TRAINING_NAMES

    # ----- printing -----

    def code(self, expr) -> str:
        scalars = frozenset(v.name for v in self.hyper)  # xp.where(Z > 0, 1, alpha)
        return layout(NumpyPrinter({**PRINTER_SETTINGS, "scalars": scalars}).doprint(expr))

    def function(self, items, sources, indent=4, stored=frozenset()) -> Function:
        """Statements for ``items`` [(target, expr, comments, wrap)] after common subexpression
        elimination, and the loads of the symbols they use from ``sources``; each fits in a
        line of LINE_LENGTH at ``indent`` (see :meth:`fitted`). A target in ``stored`` (a
        batch statistic) is computed in an ``else:`` branch, one level deeper."""
        exprs = [e for _, e, _, _ in items]
        names = naming.temporaries(self.taken)
        temps, reduced = sp.cse(exprs, symbols=names)
        temps, reduced = self._drop_cheap(temps, reduced)
        pending = list(temps)
        body, defined = [], set()
        for (target, _, comments, wrap), expr in zip(items, reduced, strict=True):
            needed = _needed_temps(expr, pending)
            for temp, value in [t for t in pending if t[0] in needed]:
                body += [Statement(n, c) for n, c in self.fitted(temp, value, None, names,
                                                                 indent)]
                defined.add(temp)
            pending = [t for t in pending if t[0] not in needed]
            deeper = indent + 4 if target in stored else indent
            *parts, (name, text) = self.fitted(target, expr, wrap, names, deeper)
            body += [Statement(n, c) for n, c in parts]
            body.append(Statement(name, text, comments, target in stored))
            defined.add(target)
        used = set()
        for (_, _, _, wrap), expr in zip(items, reduced, strict=True):
            used |= expr.free_symbols
            if wrap not in (None, "float"):
                used.add(sp.Symbol(wrap, real=True))
        for _, value in temps:
            used |= value.free_symbols
        loads = [Statement(s.name, code) for s, code in sources.items()
                 if s in used and s not in defined]
        return Function(tuple(loads), tuple(body))

    def fitted(self, target, expr, wrap, names, indent) -> list[tuple[str, str]]:
        """[(name, code)] for ``target = expr``, in a line of at most LINE_LENGTH: where the
        line would be longer, its largest subexpression that fits on a line of its own gets a
        temporary first (from ``names``), again until it fits; so that no line is left for
        ruff format to break."""
        def text(e):
            code = self.code(e)
            if wrap == "float":
                return f"float({code})"
            if wrap is not None:  # a gradient that is constant along some axis
                return f"np.broadcast_to({code}, np.shape({wrap})).copy()"
            return code

        out = []
        code = text(expr)
        while indent + len(target.name) + 3 + len(code) > LINE_LENGTH:
            part = self._part(expr, indent)
            if part is None:
                break
            temp = next(names)
            out += self.fitted(temp, part, None, names, indent)
            expr = expr.xreplace({part: temp})
            code = text(expr)
        return out + [(target.name, code)]

    def _part(self, expr, indent):
        """The subexpression of ``expr`` to name first: the longest that fits on a line of its
        own as ``t12 = ...``, else the longest."""
        room = LINE_LENGTH - indent - len("t000 = ")
        parts = {e: len(self.code(e)) for e in sp.preorder_traversal(expr)
                 if e is not expr and not e.is_Atom and e.free_symbols and not e.is_Number}
        if not parts:
            return None
        fitting = [e for e, n in parts.items() if n <= room]
        return max(fitting or parts, key=lambda e: (parts[e], sp.default_sort_key(e)))

    def _drop_cheap(self, temps, reduced):
        """Write back common subexpressions that are scalar arithmetic (1/m, 2*m): naming them
        saves nothing and reads worse."""
        kept = []
        back = {}
        for temp, value in temps:
            value = value.xreplace(back)
            if value.free_symbols <= self.scalars and not value.atoms(sp.Function):
                back[temp] = value
            else:
                kept.append((temp, value))
        return kept, [e.xreplace(back) for e in reduced]

    def sources(self, *, cache: bool, labels: bool = False):
        """Where each symbol a function may use comes from, in the order of the loads."""
        out = {v.symbol: f'params["{v.name}"]' for v in self.params}
        if cache:
            out.update({s: f'cache["{s.name}"]' for s, _ in self.forward_nodes})
            out.update({s: f'cache["{s.name}"]' for s in self.masks})
        if self.named:
            out.update({self.data[v.name]: f'inputs["{v.name}"]' for v in self.input_vars})
            out.update({v.symbol: f'inputs["{v.name}"]' for v in self.constant_vars})
            if labels:
                out.update({self.data[v.name]: f'labels["{v.name}"]' for v in self.label_vars})
        out[M] = self.examples_count()
        return out

    def examples_count(self) -> str:
        """The code of m: the columns of the first input (of a label, without inputs)."""
        if not self.named:
            return f"{self.X.name}.shape[1]"
        first = (self.input_vars or self.label_vars)[0]
        where = "inputs" if first in self.input_vars else "labels"
        return f'{where}["{first.name}"].shape[1]'

    # ----- the parts -----

    def forward(self) -> Function:
        items = self.dropout_items(self.forward_nodes, self.masks)
        stored = frozenset(s for s, _ in self.stored_statistics())
        return self.named_loads(self.function(items, self.sources(cache=False), stored=stored))

    def stored_statistics(self) -> list:
        """[(symbol, shape)] of the nodes batch_mean(u), which train() keeps for predict();
        the statistics computed from them are computed from the stored values."""
        means = {n.name for n in self.model.nodes if isinstance(n.expr, batch_mean)}
        return [(s, self.shapes[s]) for s, _ in self.forward_nodes if s.name in means]

    @staticmethod
    def dropout_items(nodes, masks) -> list:
        """forward()'s items [(target, expr, comments, wrap)]: a node of dropout(u, keep_prob),
        ``D*u/keep_prob`` with the mask D, becomes ``A1, D1 = dropout(u, keep_prob, rng)``,
        which draws D in training and is u itself at predict."""
        items = []
        for s, e in nodes:
            found = sorted(e.free_symbols & set(masks), key=str)
            if found:
                (mask,) = found
                s = sp.Symbol(f"{s.name}, {mask.name}", real=True)
                e = dropout(e.xreplace({mask: masks[mask]}), masks[mask],
                            sp.Symbol("rng", real=True))
            items.append((s, e, (), None))
        return items

    def mask_of(self, node, masks) -> list:
        """The mask that ``node``'s dropout draws ([] for a node without dropout)."""
        return sorted(dict(self.nodes).get(node, sp.Integer(0)).free_symbols & set(masks),
                      key=str)

    def forward_hyper(self) -> list:
        """The hyperparameters that forward() reads (a dropout's keep probability)."""
        used = set().union(*(e.free_symbols for _, e in self.forward_nodes))
        return [v for v in self.hyper if v.symbol in used]

    def named_loads(self, function) -> Function:
        """A named module's function first makes its inputs and labels dicts (a lone array
        stands for the one input or label)."""
        if not self.named:
            return function
        first = []
        for arg, names in (("inputs", self.input_keys()), ("labels", "LABELS")):
            if any(load.code.startswith(f"{arg}[") for load in function.loads):
                first.append(Statement(arg, f'named_arrays({arg}, {names}, "{arg}")'))
        return Function(tuple(first) + function.loads, function.body)

    def input_keys(self) -> str:
        """The code of the keys that ``inputs`` holds: the inputs' and the constants'."""
        return "INPUTS + CONSTANTS" if self.constant_vars else "INPUTS"

    def data_fields(self) -> dict:
        """The CodeContext fields on the inputs and labels."""
        def names(variables):
            quoted = [python_string(v.name) for v in variables]
            return f"({quoted[0]},)" if len(quoted) == 1 else f"({', '.join(quoted)})"

        fields = {"input_names": names(self.input_vars), "label_names": names(self.label_vars)}
        if not self.named:
            return fields
        rows = lambda v: _size_text(v.shape[0])  # noqa: E731
        arrays = [f'"{v.name}": ({rows(v)}, m)' for v in self.input_vars]
        arrays += [f'"{v.name}": {_array_text(v)}'
                   + ("" if v.domain.is_real_line else f", {v.domain.text}")
                   + " (a constant: the same for every example)" for v in self.constant_vars]
        labels = [f'"{v.name}": ({rows(v)}, m), {v.domain.text}' for v in self.label_vars]
        all_names = ", ".join(v.name for v in self.input_vars + self.label_vars)
        given = ", ".join(v.name for v in self.input_vars)
        if self.constant_vars:
            also = ", ".join(v.name for v in self.constant_vars)
            all_names += f" and the constants {also}"
            given += f" and the constants {also}"
        checks = []
        for domain in dict.fromkeys(v.domain for v in self.label_vars + self.constant_vars):
            if domain.name in DOMAIN_TESTS:
                checks.append(LabelCheck(python_string(domain.name), DOMAIN_TESTS[domain.name],
                                         python_string(domain.text)))
        fields.update(
            arrays_text=tuple(_wrap_text("inputs " + "; ".join(arrays) + (";" if labels else
                                                                       ", and no labels)."),
                                         "    ")
                              + (_wrap_text("labels " + "; ".join(labels) + ").", "    ")
                                 if labels else [])),
            data_help=python_string(f"a .npz file with arrays {all_names}"),
            predict_help=python_string(f"a .npz file with arrays {given}"),
            labels_text=", ".join(v.name for v in self.label_vars),
            m_code="inputs[INPUTS[0]].shape[1]",
            label_checks=tuple(checks),
            constants=tuple(Constant(v.name, _shape_literal(v), python_string(v.domain.name),
                                     f"{v.name} {_array_text(v)}") for v in self.constant_vars),
            constant_names=names(self.constant_vars) if self.constant_vars else "()",
            input_keys=self.input_keys())
        return fields

    def cost(self) -> Function:
        return self.named_loads(self.function([self._cost_item(s, e) for s, e in self.cost_nodes],
                                              self.sources(cache=True, labels=True)))

    def _cost_item(self, s, e):
        """A node of the cost's part, in its stable form, with a comment naming the rewrite."""
        stable, rules = stable_form(e, self.nodes)
        comments = _rewritten_comment(f"{s.name} = {batch_str(e)}", rules) if rules else ()
        return s, stable, comments, None

    def label_nodes(self, exprs) -> list:
        """The nodes of the cost's part (computed from the labels, such as t = 2*Y - 1) that
        ``exprs`` use, with those they use in turn, in order: backward() computes them."""
        output = self.ren(self.graph.output)
        used = set().union(*(e.free_symbols for e in exprs))
        needed = set()
        for s, e in reversed(self.cost_nodes):
            if s in used and s != output:
                needed.add(s)
                used |= e.free_symbols
        return [(s, e) for s, e in self.cost_nodes if s in needed]

    def backward(self) -> tuple[Function, tuple[str, ...]]:
        steps = self.derivation.batch_steps
        for v in self.params:
            if v.symbol not in steps:
                raise SpecError(f"the cost does not depend on the parameter '{v.name}'",
                                file=self.model.source)
        adjoints = {step.adjoint for step in steps.values()}
        needed = {adjoint_symbol(v.symbol) for v in self.params}
        for step in reversed(list(steps.values())):
            if step.adjoint in needed:
                needed |= step.result.free_symbols & adjoints
        items = []
        for var, step in steps.items():
            if step.adjoint not in needed:
                continue
            result = self.ren(step.result)
            target = self.ren(step.adjoint)
            formula = (f"{target.name} = dJ/d{var.name} = {batch_str(result)}"
                       if var in self.param_symbols else f"{target.name} = {batch_str(result)}")
            # a division that would underflow (phi(z)/Phi(z) -> mills(z)), by the quotient rules
            stable, rules = stable_form(result, self.nodes, rules=())
            if var in self.param_symbols:
                stable, wrap = self._gradient(var, stable)
            else:
                wrap = None
            comments = _rewritten_comment(formula, rules) if rules else _wrap_comment(formula)
            items.append((target, stable, comments, wrap))
        grads = tuple(target.name for target, _, _, _ in items)
        before = [self._cost_item(s, e) for s, e in self.label_nodes([e for _, e, _, _ in items])]
        function = self.function(before + items, self.sources(cache=True, labels=True))
        return self.named_loads(function), grads

    def _gradient(self, param, result):
        return gradient_form(param, result, self._shapes(),
                             self.model.variables[param.name].type == "scalar")

    def _shapes(self):
        """The shapes of the nodes, the parameters and their adjoints."""
        shapes = dict(self.shapes)
        for s, _ in self.nodes:
            shapes[adjoint_symbol(s)] = shapes[s]
        for v in self.params:
            shapes[adjoint_symbol(v.symbol)] = shapes[v.symbol]
        return shapes

    def prediction(self) -> tuple[str, str, bool]:
        """The node predict() reads (the last label-free node the cost uses); for binary
        labels, the threshold: 0.5 for a sigmoid output, 0 for a score; and whether the node
        is a probability (a sigmoid, or a softmax down the columns), which predict_proba
        returns."""
        labelled = {s for s, _ in self.cost_nodes}
        used = set()
        for _, e in self.cost_nodes:
            used |= e.free_symbols
        candidates = [s for s, _ in self.forward_nodes if s in used and s not in labelled]
        if not candidates:
            raise SpecError("the cost uses no node computed from the examples alone: there is "
                            "nothing to predict with", file=self.model.source)
        node = candidates[-1]
        definition = dict(self.nodes)[node]
        probability = isinstance(definition, (sigmoid, softmax))
        return node.name, "0.5" if isinstance(definition, sigmoid) else "0.0", probability

    def label(self) -> Label:
        """How predict() and the command line read the (first) label."""
        if not self.label_vars:  # a model without labels predicts what its loss reads
            return Label("real", "label_named.py.jinja", "1", "1", "none")
        var = self.label_vars[0]
        shape, domain = var.shape, var.domain
        if shape[1] != 1:
            raise SpecError(f"the label '{var.name}' must be a scalar or a vector",
                            file=self.model.source)
        kind = ("binary" if domain.binary and shape == SCALAR
                else "onehot" if domain.columns == "onehot" else "real")
        text = var.type if kind != "real" else f"real, {var.type}"
        if self.named:
            return Label(kind, "label_named.py.jinja", _size_literal(shape[0]),
                         _size_text(shape[0]), text)
        return Label(kind, f"label_{kind}.py.jinja", _size_literal(shape[0]),
                     _size_text(shape[0]), text)

    def arrays(self, variables) -> tuple[Array, ...]:
        return tuple(Array(v.name, _size_literal(v.shape[0]), python_string(v.domain.name),
                           f"{v.name} ({_size_text(v.shape[0])}, m)") for v in variables)

    def dims(self):
        """The dimension that X's rows fix, and default sizes for those the data fixes not."""
        fixed = {v.shape[0] for v in self.input_vars + self.label_vars if v.shape[0].is_Symbol}
        fixed |= {d for v in self.constant_vars for d in v.shape if d.is_Symbol}
        hidden = []
        for v in self.params:
            for d in v.shape:
                if d.is_Symbol and d not in fixed and d.name not in [h for h, _ in hidden]:
                    hidden.append((d.name, HIDDEN_SIZE))
        features = "None" if self.named else _size_literal(self.feature_var.shape[0])
        return features, tuple(hidden)

    def helpers(self, *functions) -> tuple[str, ...]:
        used = set()
        for f in functions:
            for statement in f.body:
                used.add(statement.code)
        text = "\n".join(used)
        # a whole name: relu( in leaky_relu( and Phi( in log_Phi( are not calls of relu and Phi
        return tuple(name for _cls, name in HELPERS if re.search(rf"\b{name}\(", text))

    def docstring(self, label: Label, grads) -> tuple[str, ...]:
        model = self.model
        out = title_lines(model)
        spec = (model.source or f"{model.name}.toml").replace("\\", "/").rsplit("/", 1)[-1]
        out += [""] + _wrap_text(
            f"Training by gradient descent in NumPy, generated by symgrad {__version__} from "
            f"{spec}: every gradient below was derived with SymPy, and `symgrad verify "
            f"{spec}` checks this code against the derivation and against finite "
            "differences. Regenerate the file rather than edit it.")
        out += [""] + _wrap_text(f"The model, per example ({self.data_text(label)}):")
        for node in model.nodes + [model.cost]:  # printed from the parsed tree, not as typed
            out += _wrap_text(f"{node.name} = {example_str(node.expr)}", "    ")
        if model.statistics:
            names = ", ".join(str(s) for s in model.statistics)
            out += [""] + _wrap_text(
                f"Batch statistics ({names}): in training, batch_mean is the mean over the m "
                "examples of the batch given to forward(), and the gradients treat the "
                "statistics as functions of every example of that batch. For predict, "
                "train() ends with one forward pass over the whole training set with the "
                "final parameters (course 2 week 3, Batch Norm at test time: the exact "
                "estimate, deterministic) and returns the statistics in params, under their "
                f"names ({', '.join(s.name for s, _ in self.stored_statistics())}; "
                "STATISTIC_SHAPES), beside the parameters. forward() normalizes with the "
                "statistics params holds, else with the batch's own; so predict(), "
                "compute_cost() and summary() on trained params (a validation set too) use "
                "the training set's statistics, and one example is predicted as within any "
                "batch. without_statistics(params) gives the parameters alone, and "
                f"with_statistics(params, {'inputs' if self.named else 'X'}) the training "
                "set's statistics again; train(), "
                "propagate() and gradient_check() drop stored statistics, and `--save` "
                "writes them.")
        rows = lambda v: f"{_size_text(v.shape[0])}, m"  # noqa: E731
        if self.named:
            arrays = ", ".join(f"{self.data[v.name]} = {where}[{v.name!r}] ({rows(v)})"
                               for vs, where in ((self.input_vars, "inputs"),
                                                 (self.label_vars, "labels")) for v in vs)
            out += [""] + _wrap_text(f"Over m examples, the columns of {arrays}:")
            if self.constant_vars:
                shown = ", ".join(f"{v.name} = inputs[{v.name!r}] {_array_text(v)}"
                                  for v in self.constant_vars)
                out[-1] = out[-1][:-1] + ","
                out += _wrap_text(f"with the constants {shown}, the same for every example:")
        else:
            x, y = self.feature_var, self.label_var
            out += ["", f"Over m examples, the columns of X ({rows(x)}) and Y ({rows(y)}):"]
        for s, e in self.nodes:
            out += _wrap_text(f"{s.name} = {batch_str(e)}", "    ")
        out += ["", "Gradients (dZ-style entries hold m dJ/dZ, one column per example; "
                    "dw = dJ/dw):"]
        steps = {self.ren(step.adjoint).name: self.ren(step.result)
                 for step in self.derivation.batch_steps.values()}
        for name in grads:
            out += _wrap_text(f"{name} = {batch_str(steps[name])}", "    ")
        params = ", ".join(f"{v.name} {_param_text(v)}" for v in self.params)
        out += [""] + _wrap_text(f"Parameters: {params}.")
        out += _hyperparameter_text(self.hyper)
        return tuple(out)

    def data_text(self, label) -> str:
        """The inputs and labels, for the docstring: input x: vector(n_x); label y: binary."""
        if not self.named:
            x, y = self.feature_var, self.label_var
            return f"input {x.name}: {x.type}; label {y.name}: {label.text}"
        parts = [f"input {v.name}: {v.type}" for v in self.input_vars]
        parts += [f"label {v.name}: {v.type}" for v in self.label_vars]
        parts += [f"constant {v.name}: {v.type}" for v in self.constant_vars]
        return "; ".join(parts)

    def build(self) -> CodeContext:
        label = self.label()
        backward, grads = self.backward()
        forward, cost = self.forward(), self.cost()
        features, hidden = self.dims()
        prediction, threshold, probability = self.prediction()
        fan_ins = weight_fan_ins([e for _, e in self.nodes], self.params)
        scales = scale_parameters([e for _, e in self.nodes], self.params, fan_ins,
                                  self.model.hyperparameters + self.constant_vars)
        has_matrix = any(v.shape[0] != 1 and v.shape[1] != 1 for v in self.params)
        return CodeContext(
            name=self.model.name,
            model_template=MODEL_TEMPLATE,
            docstring=self.docstring(label, grads),
            helpers=self.helpers(forward, cost, backward),
            parameters=tuple(Parameter(v.name, naming.adjoint(v.name), _shape_literal(v),
                                       _param_text(v), fan_ins.get(v.name),
                                       v.name in scales)
                             for v in self.params),
            **hyperparameter_fields(self.hyper, self.forward_hyper(), bool(self.masks)),
            **clip_fields(self.model, self.forward_hyper()),
            features=features,
            hidden_sizes=hidden,
            default_init="random" if has_matrix else "zeros",
            course_init="random" if has_matrix else "zeros",
            random_scale=RANDOM_SCALE,
            label=label,
            forward=forward,
            outputs=tuple(name for s, _ in self.forward_nodes
                          for name in [s.name] + [d.name for d in self.mask_of(s, self.masks)]),
            cost=cost,
            cost_target=self.cost_nodes[-1][0].name,
            backward=backward,
            grads=grads,
            prediction=prediction,
            prediction_key=python_string(prediction),
            prediction_text=prediction,
            threshold=threshold,
            probability=probability,
            grad_key=naming.adjoint("{name}"),
            named=self.named,
            x_arg="inputs" if self.named else "X",
            y_arg="labels" if self.named else "Y",
            y_param="Y" if not self.named else "labels" if self.label_vars else "labels=None",
            inputs=self.arrays(self.input_vars),
            labels=self.arrays(self.label_vars),
            **self.data_fields(),
            statistics=tuple((s.name, "(" + ", ".join(_size_literal(d) for d in shape) + ")")
                             for s, shape in self.stored_statistics()),
            gram_weights=() if self.named else gram_weights([e for _, e in self.nodes],
                                                            self.params, self.X),
        )


def title_lines(model) -> list[str]:
    """The docstring's first lines: the model's title, and its description (a citation)."""
    out = _wrap_text(f"{model.title}.", first='"""')
    if model.description:
        out += [""] + _wrap_text(model.description)
    return out


def refuse_taken(model, owners, taken) -> None:
    """A SpecError naming the spec's key where a name in the code (``owners``: each with the
    spec's name it comes from) is one of ``taken``."""
    for name, owner in owners.items():
        if name in taken:
            what = f"'{name}'" if name == owner else f"'{name}' (made from '{owner}')"
            raise SpecError(f"the name {what} is taken in the generated code (by Python or by "
                            "the module itself); rename it in the spec", **model.where(owner))


def gradient_form(param, result, shapes, scalar):
    """A parameter's gradient as the module returns it, and how to wrap it: a scalar
    parameter's as the array library gives it (a NumPy scalar, a 0-d CuPy array: never
    float(), which would copy it from a GPU at every step); an array of the parameter's
    shape otherwise (NumPy's sum of all entries is 0-d, so a (1, 1) parameter's sums keep
    their axes, as symgrad's shapes say they do)."""
    if scalar:
        return result, None
    if shapes[param] == SCALAR:
        def keepdims(summed):  # total(u) as a (1, 1) array
            (u,) = summed.args
            rows, cols = shape_of(u, shapes)
            if rows == 1:
                return rowsum(u)
            if cols == 1:
                return colsum(u)
            return rowsum(colsum(u))

        return result.replace(lambda e: isinstance(e, total), keepdims), None
    if shape_of(result, shapes) != shapes[param]:  # constant along some axis
        return result, param.name
    return result, None


def examples(model):
    """The inputs that hold the examples and the labels, each a list in the spec's order."""
    labels = model.labels
    inputs = [v for v in model.inputs if not v.label and not v.mask]  # masks: drawn
    if not inputs:
        raise SpecError("codegen needs an input besides the labels: the examples that "
                        "predict() reads", file=model.source)
    for v in inputs + labels:
        if v.shape[1] != 1:
            raise SpecError(f"the input '{v.name}' must be a scalar or a vector (one column per "
                            "example)", **model.where(v.name))
    return inputs, labels


def plain(inputs, labels, constants=()) -> bool:
    """One input and one label and no constants: the module takes arrays X and Y, as the
    course writes them."""
    return len(inputs) == 1 and len(labels) == 1 and not constants


def _needed_temps(expr, temps):
    names = {t for t, _ in temps}
    needed = expr.free_symbols & names
    for temp, value in reversed(temps):
        if temp in needed:
            needed |= value.free_symbols & names
    return needed


def weight_fan_ins(exprs, params) -> dict[str, str]:
    """The weights among params, each with the units it reads (a Python literal of a size): a
    weight is a factor of a matmul, and reads the dimension that the product sums over
    (W @ A: W's columns; w.T @ X: w's rows). The other parameters are biases, which
    initialize_parameters() starts at 0."""
    by_symbol = {v.symbol: v for v in params}
    found = {}
    for expr in exprs:
        for product in expr.atoms(matmul):
            for side, factor in enumerate(product.args):
                moved = isinstance(factor, transpose)
                v = by_symbol.get(factor.args[0] if moved else factor)
                if v is not None:  # the left factor sums over its columns, the right its rows
                    found.setdefault(v.name, _size_literal(v.shape[(1 - side) ^ moved]))
    return found


def gram_weights(exprs, params, data) -> tuple[tuple[str, bool], ...]:
    """The weights that meet the input ``data`` (X) only in a product W @ X or w.T @ X, and
    that appear nowhere else but in sum(W**2) (an L2 penalty, or any function of it), where X
    itself appears in no other place: ((name, transposed), ...), or () where that does not
    hold. Then W @ X = (W Q) R for X = Q R, and an update linear in dW (gradient descent,
    momentum) takes the same steps on W Q with data R as on W with data X, since the cost
    reads W only through W @ X and ||W||^2 (train()'s "gram" technique)."""
    by_symbol = {v.symbol: v for v in params if v.shape[0] != 1 or v.shape[1] != 1}
    found, placeholders = {}, {}
    for expr in exprs:
        for product in expr.atoms(matmul):
            left, right = product.args
            transposed = isinstance(left, transpose)
            weight = left.args[0] if transposed else left
            if right == data and weight in by_symbol:
                found.setdefault(weight, set()).add(transposed)
                placeholders[product] = sp.Dummy()
    if not found:
        return ()
    for weight in found:
        placeholders[total(weight**2)] = sp.Dummy()
    for expr in exprs:
        rest = expr.xreplace(placeholders)
        if data in rest.free_symbols or rest.free_symbols & set(found):
            return ()  # X or a weight is read another way: W1 @ X and W2 @ X with W1 in both
    if any(len(sides) > 1 for sides in found.values()):
        return ()  # both W @ X and W.T @ X: no one basis change fits
    return tuple((by_symbol[w].name, t) for w, (t,) in found.items())


def scale_parameters(exprs, params, weights, fixed) -> set[str]:
    """The parameters, not weights, that multiply what changes with the data (gamma in
    ``gamma*zhat + beta``): initialize_parameters() starts them at 1, as Keras starts a batch
    norm's gamma, since at 0 a scale zeroes its own gradient and that of what it multiplies.
    ``fixed``: the hyperparameters and constants, which do not change with the data."""
    by_symbol = {v.symbol: v for v in params if v.name not in weights}
    unchanging = set(by_symbol) | {v.symbol for v in params} | {v.symbol for v in fixed}
    found = set()
    for expr in exprs:
        for product in expr.atoms(sp.Mul):
            for factor in product.args:
                rest = [f for f in product.args if f is not factor]
                if factor in by_symbol and any(f.free_symbols - unchanging for f in rest):
                    found.add(by_symbol[factor].name)
    return found


def _size_literal(d) -> str:
    return python_string(d.name) if d.is_Symbol else str(int(d))


def _size_text(d) -> str:
    return d.name if d.is_Symbol else str(int(d))


def _shape_literal(var) -> str:
    if is_float(var):
        return "()"
    return "(" + ", ".join(_size_literal(d) for d in var.shape) + ")"


def is_float(var) -> bool:
    """Whether the module holds ``var`` (a parameter, a constant) as a float: a scalar type
    (``scalar``, ``positive``), not a vector of size 1."""
    return var.shape == SCALAR and "(" not in var.type


def _array_text(var) -> str:
    """A constant's shape for people: (n_k, d), float."""
    if is_float(var):
        return "float"
    return "(" + ", ".join(_size_text(d) for d in var.shape) + ")"


def _param_text(var) -> str:
    if var.type == "scalar":
        return "float"
    return "(" + ", ".join(_size_text(d) for d in var.shape) + ") array"


def _wrap_comment(text: str, indent: int = 4) -> tuple[str, ...]:
    width = LINE_LENGTH - indent - 2
    return tuple(textwrap.wrap(text, width, break_on_hyphens=False, break_long_words=False,
                               subsequent_indent="    "))


def _rewritten_comment(formula: str, rules) -> tuple[str, ...]:
    """The comment above a statement that stable rules rewrote: the formula, then the rules."""
    return (_wrap_comment(f"{formula}, rewritten to stay finite by")
            + tuple(f"    {rule}" for rule in rules))


def _wrap_text(text: str, indent: str = "", first: str = "") -> list[str]:
    """Prose (no indent) wraps flush; an equation (indented) wraps with a further indent.
    ``first`` is text that will precede the first line (the docstring's quotes)."""
    lines = textwrap.wrap(text, LINE_LENGTH, initial_indent=first + indent,
                          subsequent_indent=indent + "    " if indent else "",
                          break_on_hyphens=False, break_long_words=False)
    lines[0] = lines[0][len(first):]
    return lines


# ----- layout: printed expressions in ruff format's style -----

_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.MatMult: "@",
        ast.Pow: "**", ast.Mod: "%", ast.FloorDiv: "//"}
_PREC = {ast.Add: 10, ast.Sub: 10, ast.Mult: 11, ast.Div: 11, ast.MatMult: 11, ast.Mod: 11,
         ast.FloorDiv: 11, ast.Pow: 13}
_UNARY, _ATOM, _COMPARE = 12, 14, 5
_CMP = {ast.Gt: ">", ast.Lt: "<", ast.GtE: ">=", ast.LtE: "<=", ast.Eq: "==", ast.NotEq: "!="}


def layout(code: str) -> str:
    """A printed expression re-laid out as ``ruff format`` writes it: spaces around binary
    operators, ``**`` hugging simple operands, only the parentheses that are needed.

    >>> layout("((X @ (dZ).T))/m"), layout("(1/2)*(A - Y)**2"), layout("-x**2 + w**(-1)")
    ('X @ dZ.T / m', '1 / 2 * (A - Y) ** 2', '-(x**2) + w**-1')
    """
    tree = ast.parse(code, mode="eval").body
    text = _unparse(tree)
    if ast.dump(ast.parse(text, mode="eval").body) != ast.dump(tree):
        raise AssertionError(f"layout changed the meaning of {code!r}")
    return text


def _prec(node) -> int:
    if isinstance(node, ast.BinOp):
        return _PREC[type(node.op)]
    if isinstance(node, ast.UnaryOp):
        return _UNARY
    if isinstance(node, ast.Compare):
        return _COMPARE
    return _ATOM


def _simple(node) -> bool:
    """An operand that ``**`` hugs: a name, a number, an attribute chain, maybe negated."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        node = node.operand
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, (ast.Name, ast.Constant))


def _paren(node, needed: bool) -> str:
    text = _unparse(node)
    return f"({text})" if needed else text


def _unparse(node) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Constant):
        return repr(node.value)
    if isinstance(node, ast.Attribute):
        inner = _paren(node.value, _prec(node.value) < _ATOM
                       or isinstance(node.value, ast.Constant))
        return f"{inner}.{node.attr}"
    if isinstance(node, ast.Call):
        args = [_unparse(a) for a in node.args]
        args += [f"{k.arg}={_unparse(k.value)}" for k in node.keywords]
        return f"{_paren(node.func, _prec(node.func) < _ATOM)}({', '.join(args)})"
    if isinstance(node, ast.Subscript):
        return f"{_paren(node.value, _prec(node.value) < _ATOM)}[{_unparse(node.slice)}]"
    if isinstance(node, ast.UnaryOp):
        op = {ast.USub: "-", ast.UAdd: "+", ast.Invert: "~"}[type(node.op)]
        # -(x**2): ruff format keeps the parentheses that make the order visible
        operand = node.operand
        needed = _prec(operand) < _UNARY or (isinstance(operand, ast.BinOp)
                                             and isinstance(operand.op, ast.Pow))
        return op + _paren(operand, needed)
    if isinstance(node, ast.BinOp):
        prec = _PREC[type(node.op)]
        if isinstance(node.op, ast.Pow):
            left_paren = _prec(node.left) <= prec
            right_paren = _prec(node.right) < _UNARY
            left, right = _paren(node.left, left_paren), _paren(node.right, right_paren)
            hug = (not left_paren and not right_paren and _simple(node.left)
                   and _simple(node.right))
            return f"{left}**{right}" if hug else f"{left} ** {right}"
        left = _paren(node.left, _prec(node.left) < prec)
        right = _paren(node.right, _prec(node.right) <= prec)
        return f"{left} {_OPS[type(node.op)]} {right}"
    if isinstance(node, ast.Compare):
        parts = [_paren(node.left, _prec(node.left) <= _COMPARE)]
        for op, right in zip(node.ops, node.comparators, strict=True):
            parts += [_CMP[type(op)], _paren(right, _prec(right) <= _COMPARE)]
        return " ".join(parts)
    if isinstance(node, ast.Tuple):
        return "(" + ", ".join(_unparse(e) for e in node.elts) + ("," if len(node.elts) == 1
                                                                  else "") + ")"
    raise SpecError(f"cannot lay out the generated expression ({type(node).__name__})")


__all__ = ["CodeContext", "layout"]
