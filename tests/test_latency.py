"""convnets.latency (timing a forward pass on one core, split by kind of layer) and the figures of the
pages on cost: the latency and time-share figures, the accuracy figures, and labels placed without overlaps."""

import numpy as np
import pytest
from convnets import count, latency, results, zoo
from convnets.latency import KINDS, cpu_name, forward_time, forward_times, layer_kind, machine
from convnets.plotting import (
    accuracy_figure,
    label_overlaps,
    latency_figure,
    network_name,
    place_labels,
    time_share_figure,
)
from convnets.spec import Act, BatchNorm, Conv, Flatten, GlobalAvgPool, Linear, Residual, Seq


def small_net(depthwise: bool = False) -> Seq:
    mid = Conv(16, 3, groups=16) if depthwise else Conv(16, 3)
    return Seq("small", Conv(16, 3, stride=2), BatchNorm(), Act("relu"), Residual(Seq("body", mid, BatchNorm())),
               Conv(32, 1), Act("relu"), GlobalAvgPool(), Flatten(), Linear(10))


@pytest.fixture(scope="module")
def timings():
    return [forward_time(small_net(), 24, name="dense", repeats=2),
            forward_time(small_net(depthwise=True), 24, name="depthwise", repeats=2)]


def test_forward_time_counts_the_macs_the_accounting_counts(timings):
    dense, depthwise = timings
    assert dense.macs == count(small_net(), (3, 24, 24)).macs
    assert depthwise.macs == count(small_net(True), (3, 24, 24)).macs
    # by kind: the MACs of each kind add up to the network's, computed here by hand for the dense one
    k3 = 16 * 12 * 12 * 3 * 9 + 16 * 12 * 12 * 16 * 9          # the strided 3x3 (3 -> 16) and the 3x3 (16 -> 16)
    assert dense.by_kind["k×k convolution"][1] == k3
    assert dense.by_kind["1×1 convolution"][1] == 32 * 12 * 12 * 16
    assert dense.by_kind["linear"][1] == 32 * 10
    assert depthwise.by_kind["depthwise convolution"][1] == 16 * 12 * 12 * 9
    for t in timings:
        assert sum(m for _, m in t.by_kind.values()) == t.macs
        assert sum(s for s, _ in t.by_kind.values()) == pytest.approx(t.seconds)
        assert t.seconds > 0 and t.ns_per_mac == pytest.approx(1e9 * t.seconds / t.macs)
        assert sum(t.share(k)[1] for k in KINDS) == pytest.approx(1.0)
        assert list(t.by_kind) == [k for k in KINDS if k in t.by_kind]       # in the order of KINDS


def test_forward_time_of_one_layer_with_many_channels():
    t = forward_time(Seq("dw", Conv(64, 3, groups=64)), 8, channels=64, repeats=1)
    assert t.macs == 64 * 8 * 8 * 9 and list(t.by_kind) == ["depthwise convolution", "everything else"]
    # a batch shares the time: the result is per image
    assert forward_time(Seq("dw", Conv(64, 3, groups=64)), 8, channels=64, batch=4, repeats=1).macs == t.macs
    # without the untimed first pass: the same MACs, split the same way
    cold = forward_time(Seq("dw", Conv(64, 3, groups=64)), 8, channels=64, repeats=2, warmup=False)
    assert (cold.macs, list(cold.by_kind), cold.repeats) == (t.macs, list(t.by_kind), 2)


def test_forward_time_checks_its_input():
    with pytest.raises(TypeError, match="network must be a spec container"):
        forward_time(Conv(8, 3), 16)
    with pytest.raises(ValueError, match="input_size must be an integer >= 1"):
        forward_time(small_net(), 0)
    with pytest.raises(TypeError, match="repeats must be an integer"):
        forward_time(small_net(), 16, repeats=1.5)
    with pytest.raises(ValueError, match="channels must be an integer >= 1"):
        forward_time(small_net(), 16, channels=0)
    with pytest.raises(TypeError, match="warmup must be True or False, got 1"):
        forward_time(small_net(), 16, warmup=1)


def test_forward_times_interleaves_the_passes_of_networks_of_their_own_shapes(monkeypatch):
    order = []
    run = latency._Clocked.run
    monkeypatch.setattr(latency._Clocked, "run", lambda self: (order.append(self.x.shape), run(self))[1])
    dw = Seq("dw", Conv(16, 3, groups=16))
    dense, depthwise = forward_times({"dense": small_net(), "depthwise": dw}, {"dense": 24, "depthwise": 12},
                                     channels={"dense": 3, "depthwise": 16}, rounds=3, warmup=False)
    assert order == [(1, 3, 24, 24), (1, 16, 12, 12)] * 3           # round by round, each network in turn
    assert (dense.name, dense.input_size, dense.repeats) == ("dense", 24, 3)
    assert (depthwise.name, depthwise.input_size, depthwise.repeats) == ("depthwise", 12, 3)
    # the same MACs and split as forward_time gives for each network alone
    assert dense.macs == forward_time(small_net(), 24, repeats=1).macs == count(small_net(), (3, 24, 24)).macs
    assert depthwise.macs == depthwise.by_kind["depthwise convolution"][1] == 16 * 12 * 12 * 9
    for t in (dense, depthwise):
        assert sum(s for s, _ in t.by_kind.values()) == pytest.approx(t.seconds) and t.seconds > 0
    # shared sizes and channels as plain integers
    assert [t.input_size for t in forward_times({"a": small_net(), "b": small_net(True)}, 16, rounds=1)] == [16, 16]


def test_forward_times_checks_its_input():
    with pytest.raises(TypeError, match="networks must be a dict"):
        forward_times([small_net()], 16)
    with pytest.raises(ValueError, match="networks must name at least one network"):
        forward_times({}, 16)
    with pytest.raises(ValueError, match=r"input_size must give a value for exactly the networks \['a'\]"):
        forward_times({"a": small_net()}, {"b": 16})
    with pytest.raises(ValueError, match=r"channels\['a'\] must be an integer >= 1"):
        forward_times({"a": small_net()}, 16, channels={"a": 0})
    with pytest.raises(ValueError, match="rounds must be an integer >= 1"):
        forward_times({"a": small_net()}, 16, rounds=0)


def test_layer_kind():
    from convnets import build

    model = build(Seq("k", Conv(8, 3), Conv(8, 1), Conv(8, 3, groups=8), Conv(16, 3, groups=4), GlobalAvgPool(),
                      Flatten(), Linear(4)), (8, 6, 6))
    kinds = [layer_kind(layer) for layer in model.layers()]
    assert [k for k in kinds if k] == ["k×k convolution", "1×1 convolution", "depthwise convolution",
                                       "grouped convolution", "linear"]
    assert kinds.count(None) == 3                     # the container, pooling and flatten


def test_share_rejects_an_unknown_kind(timings):
    with pytest.raises(ValueError, match="kind must be one of"):
        timings[0].share("attention")
    assert timings[0].share("depthwise convolution") == (0.0, 0.0)


def test_machine_names_the_processor_and_the_libraries():
    assert cpu_name() and "NumPy " + np.__version__ in machine()


# ---- figures
def test_network_name():
    assert [network_name(n) for n in ("resnet50-v1", "resnet50", "vgg16-bn", "efficientnet-b3", "densenet121",
                                      "convnext-tiny", "mobilenet-v3-large")] == \
        ["ResNet-50", "ResNet-50", "VGG-16-BN", "EffNet-B3", "DenseNet-121", "ConvNeXt-T", "MobileNetV3-L"]
    assert all(network_name(n) for n in zoo.ZOO)          # every network of the zoo has a name
    with pytest.raises(ValueError, match="not a network of the zoo"):
        network_name("lenet5")
    with pytest.raises(TypeError, match="name must be a string"):
        network_name(50)


def test_latency_and_share_figures(timings):
    fig = latency_figure(timings, reference="dense")
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert {"dense", "depthwise", "dense's rate", "2 times", "4 times", "8 times"} <= set(texts)
    fig = time_share_figure(timings)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["dense: MACs", "time", "depthwise: MACs", "time"]
    with pytest.raises(ValueError, match="reference must be one of"):
        latency_figure(timings, reference="resnet50")
    with pytest.raises(TypeError, match="timings must be a non-empty list"):
        time_share_figure([])


@pytest.mark.parametrize("cost", ["params", "macs"])
def test_accuracy_figures_label_every_point_without_overlaps(cost):
    rows = [r for r in results.with_counts(versions=("V1", "V2"), after_efficientnet=True)
            if r["source"] == "weights" and "-bn" not in r["network"]]
    fig = accuracy_figure(rows, cost=cost, ylim=(67, 85.5), height=6.0)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.texts if t.get_text()]
    v1 = [r for r in rows if results.weights_version(r) == "V1"]
    assert len(labels) == len(v1)                                   # one label per V1 point, none for V2 points
    assert "AlexNet: 56.5% ↓" in labels                            # below the axis, with its value
    assert label_overlaps(fig) == []
    from matplotlib.text import Text

    renderer = fig.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    for t in ax.texts:
        if t.get_text():
            box = Text.get_window_extent(t, renderer)                   # the text's own box, not its leader line
            assert frame.contains(box.x0, box.y0) and frame.contains(box.x1, box.y1), t.get_text()
    arrows = [t for t in ax.texts if not t.get_text() and t.arrow_patch is not None]
    assert len(arrows) >= sum(1 for r in rows if results.weights_version(r) == "V2")


def test_accuracy_figure_checks_its_input():
    rows = results.with_counts()
    with pytest.raises(ValueError, match="cost must be 'params' or 'macs'"):
        accuracy_figure(rows, cost="time")
    with pytest.raises(ValueError, match="rows must hold at least one result"):
        accuracy_figure([])
    with pytest.raises(ValueError, match=r"rows\[0\] lacks \['top1'\]"):
        accuracy_figure([{k: v for k, v in rows[0].items() if k != "top1"}])
    with pytest.raises(ValueError, match="ylim must be"):
        accuracy_figure(rows, ylim=(80, 70))


def test_place_labels_keeps_labels_apart():
    from convnets.plotting import figure

    fig, ax = figure(width=4, height=3)
    xs, ys = np.array([1, 1.05, 1.1, 2, 2.02]), np.array([1, 1.02, 0.98, 2, 2.01])
    ax.plot(xs, ys, "o", linestyle="none")
    ax.set_xlim(0.5, 2.5)
    ax.set_ylim(0.5, 2.5)
    labels = place_labels(ax, [(x, y, f"point {i}", "black") for i, (x, y) in enumerate(zip(xs, ys, strict=True))])
    assert len(labels) == 5 and label_overlaps(fig) == []
    fig, ax = figure(width=1, height=1)
    ax.plot([0.5], [0.5], "o")
    with pytest.raises(ValueError, match="no free place for the label"):
        place_labels(ax, [(0.5, 0.5, "a label far too long for this tiny figure", "black")])
