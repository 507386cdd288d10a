"""How long a forward pass takes on one core, and where the time goes: MACs are not time.

:func:`forward_time` builds a network definition with :func:`convnets.build`, runs it in
evaluation mode on one core (BLAS limited to one thread with ``threadpoolctl``), and keeps
the fastest of several runs. The same runs also time every convolution and linear layer on
its own, so that the time can be split by kind of layer (:data:`KINDS`) next to the
multiply-accumulates each kind does. A single layer is timed the same way, as a network of
one layer. :func:`forward_times` times several networks with their runs interleaved.

The clock is the processor time of this process (``time.process_time``): on an idle core
it equals the wall-clock time, and other programs running on the same machine do not add
their own time to it. They do slow it somewhat, through the caches and the core they share,
so the fastest run is kept, and :func:`forward_times` spreads each network's runs over time.
Absolute times are those of the machine that runs the code; only ratios carry over.
"""

from __future__ import annotations

import contextlib
import platform
import time
from dataclasses import dataclass, field

import numpy as np
from threadpoolctl import threadpool_limits

from .accounting import check_network, count
from .build import build
from .checks import positive_int
from .conv import Conv2d
from .layers import Linear

#: the kinds of weight layer a forward pass is split into, and the rest
KINDS = ("k×k convolution", "1×1 convolution", "grouped convolution", "depthwise convolution", "linear",
         "everything else")


def layer_kind(layer) -> str | None:
    """Which of :data:`KINDS` a built layer is (None for a layer without weights).

    A convolution is depthwise when every group holds one input channel (groups = C_in > 1),
    grouped when 1 < groups < C_in, and otherwise 1×1 or k×k by its kernel.
    """
    if isinstance(layer, Conv2d):
        if layer.groups > 1:
            return "depthwise convolution" if layer.groups == layer.in_channels else "grouped convolution"
        return "1×1 convolution" if layer.kernel == 1 else "k×k convolution"
    if isinstance(layer, Linear):
        return "linear"
    return None


def _layer_macs(layer, out) -> int:
    """Multiply-accumulates of one image through a convolution or linear layer, from its output."""
    per_output = layer.params["W"][0].size               # (C_in / groups) * k * k, or F_in
    return int(out[0].size) * per_output


@dataclass(frozen=True)
class Timing:
    """One network's forward pass on one core: time and MACs per image, in total and by kind.

    ``seconds`` is the fastest of ``repeats`` whole forward passes, divided by ``batch``.
    ``by_kind`` maps each of :data:`KINDS` to (seconds, MACs) per image; its seconds come from
    a clock around every weight layer in the same passes (the fastest run of each layer),
    and "everything else" (normalisation, activations, pooling, additions, concatenations,
    gates) is ``seconds`` minus the weight layers' sum, so the kinds add up to ``seconds``.
    """

    name: str
    input_size: int
    batch: int
    repeats: int
    seconds: float
    macs: int
    params: int
    by_kind: dict[str, tuple[float, int]] = field(default_factory=dict)

    @property
    def ns_per_mac(self) -> float:
        """Nanoseconds per multiply-accumulate: the forward time divided by the MACs."""
        return 1e9 * self.seconds / self.macs

    def share(self, kind: str) -> tuple[float, float]:
        """(fraction of the time, fraction of the MACs) that layers of ``kind`` take."""
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        seconds, macs = self.by_kind.get(kind, (0.0, 0))
        return seconds / self.seconds, macs / self.macs


def forward_time(network, input_size: int, *, channels: int = 3, batch: int = 1, repeats: int = 3,
                 warmup: bool = True, seed: int = 0, name: str | None = None) -> Timing:
    """Time ``network`` (a :mod:`convnets.spec` definition) on ``batch`` inputs of ``channels`` x ``input_size``².

    With ``warmup``, one untimed pass first (it allocates the work arrays); without it, the
    first timed pass allocates them, which makes it somewhat slower, and the fastest pass is
    normally a later one. Then ``repeats`` timed passes with a clock around the whole network
    and one around each convolution and linear layer: the fastest whole pass is kept, and
    each layer's fastest run (the layers' clocks cost about a microsecond per layer, far
    below a layer's time). All on one BLAS thread, in evaluation mode. Raises
    ``AssertionError`` if the MACs the layers did differ from :func:`convnets.count`'s, which
    would mean the two disagree on the network.
    """
    repeats = positive_int("repeats", repeats)
    return forward_times({name or getattr(network, "name", ""): network}, input_size, channels=channels,
                         batch=batch, rounds=repeats, warmup=warmup, seed=seed)[0]


def forward_times(networks: dict, input_size, *, channels=3, batch: int = 1, rounds: int = 2,
                  warmup: bool = True, seed: int = 0) -> list[Timing]:
    """Time several networks ({name: definition}) as :func:`forward_time` times one, their passes interleaved.

    ``input_size`` and ``channels`` are integers shared by all the networks, or dicts giving
    each network's. All the networks are built first; then each of ``rounds`` rounds runs
    every network once, in turn, and each network keeps its fastest pass (and each layer its
    fastest run). A burst of load from other programs, which slows every pass it overlaps,
    then rarely slows all the passes of one network while sparing another's, as it can when
    each network's passes follow one another. Returns the :class:`Timing` of each network,
    in the order given (``Timing.repeats`` is ``rounds``).
    """
    if not isinstance(networks, dict) or not all(isinstance(k, str) for k in networks):
        raise TypeError(f"networks must be a dict {{name: network definition}}, got {type(networks).__name__}")
    if not networks:
        raise ValueError("networks must name at least one network, got an empty dict")
    for network in networks.values():
        check_network(network, (3, 1, 1))
    sizes, channels = (_per_network(what, value, networks) for what, value in (("input_size", input_size),
                                                                                ("channels", channels)))
    batch = positive_int("batch", batch)
    rounds = positive_int("rounds", rounds)
    if not isinstance(warmup, bool):
        raise TypeError(f"warmup must be True or False, got {warmup!r}")
    shapes = {name: (channels[name], sizes[name], sizes[name]) for name in networks}
    counted = {name: count(network, shapes[name]) for name, network in networks.items()}
    with threadpool_limits(limits=1, user_api="blas"):
        clocked = {}
        for name, network in networks.items():
            x = np.random.default_rng(seed).standard_normal((batch, *shapes[name])).astype(np.float32)
            clocked[name] = _Clocked(build(network, shapes[name], seed=seed).eval(), x)
        with contextlib.ExitStack() as clocks:
            for model in clocked.values():
                if warmup:
                    model.model.forward(model.x)
                clocks.enter_context(model)
            for _ in range(rounds):
                for model in clocked.values():
                    model.run()
    timings = []
    for name, model in clocked.items():
        seconds, by_kind = model.result()
        done = sum(macs for _, macs in by_kind.values())
        if done != counted[name].macs:
            raise AssertionError(f"{name}: the layers did {done} MACs, the accounting counts {counted[name].macs}")
        weighted = sum(s for s, _ in by_kind.values())
        by_kind["everything else"] = (max(0.0, seconds - weighted), 0)
        timings.append(Timing(name, sizes[name], batch, rounds, seconds, counted[name].macs, counted[name].params,
                              {k: by_kind[k] for k in KINDS if k in by_kind}))
    return timings


def _per_network(what: str, value, networks: dict) -> dict[str, int]:
    """``value`` (an integer >= 1, or a dict of one for every network) as a dict {network name: integer}."""
    if isinstance(value, dict):
        if set(value) != set(networks):
            raise ValueError(f"{what} must give a value for exactly the networks {list(networks)}, "
                             f"got one for {list(value)}")
        return {name: positive_int(f"{what}[{name!r}]", value[name]) for name in networks}
    value = positive_int(what, value)
    return dict.fromkeys(networks, value)


class _Clocked:
    """A built model whose weight layers carry a clock while the context is entered; ``run`` times one pass.

    It keeps the fastest whole pass and each weight layer's fastest run (the clocks are
    instance attributes ``forward``, which the containers call, removed on exit).
    """

    def __init__(self, model, x):
        self.model, self.x = model, x
        self.layers = [layer for layer in model.layers() if layer_kind(layer) is not None]
        self.best = dict.fromkeys(map(id, self.layers), np.inf)
        self.macs = dict.fromkeys(map(id, self.layers), 0)
        self.fastest = np.inf

    def _clock(self, layer):
        forward = layer.forward

        def timed(inputs):
            start = time.process_time()
            out = forward(inputs)
            self.best[id(layer)] = min(self.best[id(layer)], time.process_time() - start)
            self.macs[id(layer)] = _layer_macs(layer, out)
            return out
        return timed

    def __enter__(self):
        for layer in self.layers:
            layer.forward = self._clock(layer)
        return self

    def __exit__(self, *exc):
        for layer in self.layers:
            del layer.forward

    def run(self):
        start = time.process_time()
        self.model.forward(self.x)
        self.fastest = min(self.fastest, time.process_time() - start)

    def result(self) -> tuple[float, dict[str, tuple[float, int]]]:
        """Per image: the fastest pass's seconds, and for each kind of weight layer the sum of its layers'
        fastest seconds and their MACs."""
        n = self.x.shape[0]
        totals: dict[str, tuple[float, int]] = {}
        for layer in self.layers:
            kind = layer_kind(layer)
            seconds, macs = totals.get(kind, (0.0, 0))
            totals[kind] = (seconds + self.best[id(layer)] / n, macs + self.macs[id(layer)])
        return self.fastest / n, totals


def machine() -> str:
    """Where the times were measured: processor, NumPy version, BLAS library (e.g. 'OpenBLAS 0.3.31')."""
    from threadpoolctl import threadpool_info

    blas = [f"{'OpenBLAS' if i['internal_api'] == 'openblas' else i['internal_api']} {i.get('version') or ''}".strip()
            for i in threadpool_info() if i["user_api"] == "blas"]
    return f"{cpu_name()}, NumPy {np.__version__}, {', '.join(blas) or 'an unknown BLAS'}"


def cpu_name() -> str:
    """The processor's model name (from /proc/cpuinfo on Linux), else what ``platform`` reports."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return " ".join(line.split(":", 1)[1].split())
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown processor"
