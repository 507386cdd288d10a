"""Containers that wire layers into networks, and the optimiser that trains them.

Five ways to combine layers cover every architecture in the chapter:

=================  ===============================  ==============================
container          forward                           backward (dout -> dx)
=================  ===============================  ==============================
``Sequential``     f_n(...f_1(x))                    chain rule, last layer first
``Residual``       body(x) + shortcut(x)             body'(dout) + shortcut'(dout)
``Concat``         [b_1(x), ..., b_m(x)] on C        sum of each branch's backward
``DenseConcat``    [x, body(x)] on C                 dout[:C] + body'(dout[C:])
``Gate``           x * gate(x)  (gate: N, C, 1, 1)   squeeze-and-excitation's product
=================  ===============================  ==============================

Every backward checks ``dout`` against the shape and dtype of its forward's output:
``Sequential`` and ``Residual`` hand it to a child that does, the other three check it
themselves (``Layer._check_dout``).
"""

from __future__ import annotations

import numpy as np

from .checks import array
from .layers import Layer


class Sequential(Layer):
    """Apply layers in order."""

    def __init__(self, *children: Layer, name: str = "Sequential"):
        super().__init__()
        for i, child in enumerate(children):
            if not isinstance(child, Layer):
                raise TypeError(f"{name}: child {i} must be a Layer, got {type(child).__name__}")
        self.children = list(children)
        self.name = name

    def layers(self):
        yield self
        for child in self.children:
            yield from child.layers()

    def forward(self, x):
        for child in self.children:
            x = child.forward(x)
        return x

    def backward(self, dout):
        for child in reversed(self.children):
            dout = child.backward(dout)
        return dout

    def __getitem__(self, i):
        return self.children[i]

    def __len__(self):
        return len(self.children)


class Residual(Layer):
    """y = F(x) + x, with F the block's ``body``.

    Where F changes the shape, a ``shortcut`` S (e.g. a 1x1 convolution) stands in for
    the identity: y = F(x) + S(x). Backward is the sum rule, dx = F'(dout) + dout: the
    identity passes the gradient through unchanged (S'(dout) with a shortcut).
    """

    def __init__(self, body: Layer, shortcut: Layer | None = None, name: str = "Residual"):
        super().__init__()
        self.body, self.shortcut, self.name = body, shortcut, name

    def layers(self):
        yield self
        yield from self.body.layers()
        if self.shortcut is not None:
            yield from self.shortcut.layers()

    def forward(self, x):
        fx = self.body.forward(x)
        sx = x if self.shortcut is None else self.shortcut.forward(x)
        if fx.shape != sx.shape:
            raise ValueError(f"{self.name}: body gives {fx.shape}, shortcut {sx.shape}")
        return fx + sx

    def backward(self, dout):
        dfx = self.body.backward(dout)
        dsx = dout if self.shortcut is None else self.shortcut.backward(dout)
        return dfx + dsx


class Concat(Layer):
    """Run branches on the same input and stack their outputs along channels (Inception)."""

    def __init__(self, *branches: Layer, name: str = "Concat"):
        super().__init__()
        self.branches, self.name = list(branches), name

    def layers(self):
        yield self
        for branch in self.branches:
            yield from branch.layers()

    def forward(self, x):
        outs = [branch.forward(x) for branch in self.branches]
        spatial = {o.shape[2:] for o in outs}
        if len(spatial) != 1:
            raise ValueError(f"{self.name}: branch outputs {[o.shape for o in outs]} differ in size")
        self.cache = np.cumsum([o.shape[1] for o in outs])[:-1]
        return self._output(np.concatenate(outs, axis=1))

    def backward(self, dout):
        pieces = np.split(self._check_dout(dout), self.cache, axis=1)
        return sum(branch.backward(piece) for branch, piece in zip(self.branches, pieces, strict=True))


class DenseConcat(Layer):
    """y = [x, body(x)] along channels: DenseNet's connection (each layer sees all before it)."""

    def __init__(self, body: Layer, name: str = "DenseConcat"):
        super().__init__()
        self.body, self.name = body, name

    def layers(self):
        yield self
        yield from self.body.layers()

    def forward(self, x):
        array("x", x, ndim=4, layer=self.name)
        self.cache = x.shape[1]
        return self._output(np.concatenate([x, self.body.forward(x)], axis=1))

    def backward(self, dout):
        self._check_dout(dout)
        c = self.cache
        return dout[:, :c] + self.body.backward(dout[:, c:])


class Gate(Layer):
    """y = x * gate(x), the gate giving one weight per channel: (N, C, 1, 1).

    This is squeeze-and-excitation (Hu et al., 2018) when the gate is
    global-pool -> 1x1 conv -> act -> 1x1 conv -> sigmoid.
    """

    def __init__(self, gate: Layer, name: str = "Gate"):
        super().__init__()
        self.gate, self.name = gate, name

    def layers(self):
        yield self
        yield from self.gate.layers()

    def forward(self, x):
        array("x", x, ndim=4, layer=self.name)
        g = self.gate.forward(x)
        if g.shape != (*x.shape[:2], 1, 1):
            raise ValueError(f"{self.name}: gate output {g.shape} must be {(*x.shape[:2], 1, 1)}")
        self.cache = (x, g)
        return self._output(x * g)

    def backward(self, dout):
        self._check_dout(dout)
        x, g = self.cache
        dgate = (dout * x).sum(axis=(2, 3), keepdims=True)
        return dout * g + self.gate.backward(dgate)


class SGD:
    """Stochastic gradient descent with momentum and weight decay.

    v <- momentum * v + (grad + weight_decay * w);  w <- w - lr * v.
    Weight decay applies to weights named ``W`` (not to biases or batch-norm
    parameters), the common practice.
    """

    def __init__(self, model: Layer, lr: float = 0.1, momentum: float = 0.9, weight_decay: float = 0.0):
        if lr <= 0:
            raise ValueError(f"lr must be > 0, got {lr}")
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must be in [0, 1), got {momentum}")
        self.model, self.lr, self.momentum, self.weight_decay = model, lr, momentum, weight_decay
        self.velocity = {(id(layer), key): np.zeros_like(layer.params[key])
                         for layer, key in model.named_parameters()}

    def step(self):
        for layer, key in self.model.named_parameters():
            grad = layer.grads[key]
            if key == "W" and self.weight_decay:
                grad = grad + self.weight_decay * layer.params[key]
            v = self.velocity[(id(layer), key)]
            v *= self.momentum
            v += grad
            layer.params[key] -= self.lr * v
