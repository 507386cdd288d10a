"""The published-results file: well formed, cited, and joined with the right counts."""

import pytest
from convnets import results, zoo

HEADER = "network,top1,top5,cite,source,where,crops,test_size,resize,recipe\n"


def by_version():
    """Rows keyed by (network, source, weights version); paper rows have version None."""
    return {(r["network"], r["source"], results.weights_version(r)): r for r in results.load()}


def test_rows_are_complete():
    rows = results.load()
    assert len(rows) >= 40
    for r in rows:
        assert r["top1"] is not None or r["top5"] is not None
        assert r["source"] in ("paper", "weights") and r["cite"] and r["where"]
        assert bool(r["recipe"]) == (r["source"] == "weights")        # every reference weight names its recipe
    keys = [(r["network"], r["source"], results.weights_version(r), r["where"]) for r in rows]
    assert len(keys) == len(set(keys))


def test_spot_values_against_their_sources():
    by = by_version()
    # torchvision 0.29.1 weight metadata, ResNet50_Weights.IMAGENET1K_V1 and IMAGENET1K_V2
    assert by[("resnet50", "weights", "V1")]["top1"] == 76.13
    assert by[("resnet50", "weights", "V2")]["top1"] == 80.858 and by[("resnet50", "weights", "V2")]["resize"] == "232"
    # Simonyan & Zisserman (2015), Table 3: config. D, test scale 384, top-1 error 25.6%
    assert by[("vgg16", "paper", None)]["top1"] == pytest.approx(100 - 25.6)
    assert by[("vgg16", "paper", None)]["test_size"] == 384
    # He et al. (2016), Table 3, 10-crop: ResNet-152 top-1 error 21.43%
    assert by[("resnet152-v1", "paper", None)]["top1"] == pytest.approx(100 - 21.43)
    # Tan & Le, arXiv:1905.11946 v5 (11 Sep 2020), Table 2: B7 84.3% at 600x600
    assert by[("efficientnet-b7", "paper", None)]["top1"] == 84.3


def test_spot_values_after_efficientnet():
    by = by_version()
    # torchvision 0.29.1 weight metadata (meta["_metrics"]["ImageNet-1K"]["acc@1"])
    assert by[("resnext50-32x4d", "weights", "V1")]["top1"] == 77.618
    assert by[("resnext50-32x4d", "weights", "V2")]["top1"] == 81.198
    assert by[("convnext-tiny", "weights", "V1")]["top1"] == 82.52
    assert by[("efficientnetv2-s", "weights", "V1")]["test_size"] == 384      # EfficientNet_V2_S: crop 384
    assert by[("mobilenet-v3-large", "weights", "V2")]["top1"] == 75.274
    # Xie et al. (2017), Table 3: ResNeXt-50 (32x4d) top-1 error 22.2% (also the authors' README)
    assert by[("resnext50-32x4d", "paper", None)]["top1"] == pytest.approx(100 - 22.2)
    # Liu et al. (2022), Table 1 and the authors' README: ConvNeXt-T 82.1, ConvNeXt-S 83.1
    assert by[("convnext-tiny", "paper", None)]["top1"] == 82.1
    assert by[("convnext-small", "paper", None)]["top1"] == 83.1
    # Radosavovic et al. (2020), Fig. 15: RegNetX-400MF top-1 error 27.3 +- 0.15 (pycls MODEL_ZOO.md says 27.4);
    # Fig. 16: RegNetY-400MF 25.9, RegNetY-800MF 23.7
    assert by[("regnetx-400mf", "paper", None)]["top1"] == pytest.approx(100 - 27.3)
    assert by[("regnety-400mf", "paper", None)]["top1"] == pytest.approx(100 - 25.9)
    assert by[("regnety-800mf", "paper", None)]["top1"] == pytest.approx(100 - 23.7)
    # Zagoruyko & Komodakis, arXiv:1605.07146 v4, Table 8: WRN-50-2-bottleneck top-1 error 21.9
    assert by[("wide-resnet50-2", "paper", None)]["where"].startswith("Table 8 ")
    # google/automl efficientnetv2 README and Tan & Le (2021), Table 7: EfficientNetV2-S 83.9 at 384
    assert by[("efficientnetv2-s", "paper", None)]["top1"] == 83.9


def test_every_network_after_efficientnet_has_reference_weights():
    for name, entry in zoo.ZOO.items():
        if entry.family in zoo.FAMILIES_AFTER_EFFICIENTNET:
            assert (name, "weights", "V1") in by_version(), name


def test_efficientnet_paper_rows_cite_one_version():
    # the 77.1 ... 84.3 rows are arXiv v5 Table 2; the ICML 2019 paper reports 84.4% for B7 (issue 14, item 3)
    rows = [r for r in results.load() if r["network"].startswith("efficientnet-b") and r["source"] == "paper"]
    assert len(rows) == 8 and {r["cite"] for r in rows} == {"tan2019efficientnet_arxiv"}
    assert all("arXiv v5" in r["where"] for r in rows)


def test_with_counts_uses_the_test_resolution_of_weights():
    rows = {(r["network"], r["source"]): r for r in results.with_counts()}
    assert rows[("efficientnet-b2", "weights")]["macs"] == zoo.counts("efficientnet-b2", 288).macs
    assert rows[("efficientnet-b2", "paper")]["macs"] == zoo.counts("efficientnet-b2").macs
    assert ("googlenet", "paper") not in rows          # top-5 only: not on a top-1 plot


def test_with_counts_defaults_to_v1_and_the_milestones():
    rows = results.with_counts()
    assert {results.weights_version(r) for r in rows} == {None, "V1"}
    assert not any(r["family"] in zoo.FAMILIES_AFTER_EFFICIENTNET for r in rows)
    both = results.with_counts(versions=("V1", "V2"), after_efficientnet=True)
    v2 = {r["network"]: r for r in both if results.weights_version(r) == "V2"}
    assert v2["resnet50"]["top1"] == 80.858 and v2["resnet50"]["label"] == "resnet50 (V2)"
    assert v2["resnext50-32x4d"]["family"] == "ResNeXt" and v2["resnext50-32x4d"]["macs"] == 4_230_479_872
    assert {r["family"] for r in both} >= set(zoo.FAMILIES_AFTER_EFFICIENTNET)
    with pytest.raises(ValueError, match="version must be one of"):
        results.with_counts(versions=("V3",))


def test_top1_by_source():
    weights, paper = results.top1("weights"), results.top1("paper")
    assert weights["resnet50"] == 76.13 and paper["resnet50-v1"] == pytest.approx(100 - 22.85)
    assert "googlenet" not in paper                     # the paper gives top-5 only
    with pytest.raises(ValueError, match="source must be one of"):
        results.top1("blog")


def test_top1_by_weights_version():
    v2 = results.top1("weights", version="V2")
    assert v2["resnet50"] == 80.858 and v2["efficientnet-b1"] == 79.838    # torchvision 0.29.1 metadata
    assert "densenet121" not in v2 and "convnext-tiny" not in v2            # no V2 weights for these
    assert results.top1("weights", version="V1")["resnet50"] == 76.13
    with pytest.raises(ValueError, match="version must be one of"):
        results.top1("weights", version="V3")


def test_source_and_version_text():
    by = by_version()
    assert results.source(by[("resnet50", "weights", "V1")]) == "reference weights IMAGENET1K_V1"
    assert results.source(by[("resnet50", "weights", "V2")]) == "reference weights IMAGENET1K_V2"
    assert results.source(by[("resnet152-v1", "paper", None)]) == "paper, Table 3, 10-crop testing"
    assert results.weights_version(by[("resnet50", "weights", "V2")]) == "V2"


def test_protocol_text():
    row = dict(crops="10", test_size=224)
    assert results.protocol(row) == "10 crops of 224x224"
    assert results.protocol(dict(crops="dense", test_size=384)) == "dense evaluation, smallest side 384"


def test_bad_file_is_rejected(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + "resnet51,76,93,x,paper,T,1,224,256,\n")
    with pytest.raises(ValueError, match="unknown network 'resnet51'"):
        results.load(path)
    path.write_text(HEADER + "resnet50,76,93,x,blog,T,1,224,256,\n")
    with pytest.raises(ValueError, match="source must be one of"):
        results.load(path)
    path.write_text(HEADER + "resnet50,76,93,x,weights,ResNet50 v2,1,224,256,u\n")
    with pytest.raises(ValueError, match="ResNet50_Weights.IMAGENET1K_V1, got 'ResNet50 v2'"):
        results.load(path)
    path.write_text(HEADER.replace(",recipe", "") + "resnet50,76,93,x,paper,T,1,224,256\n")
    with pytest.raises(ValueError, match="columns must be"):
        results.load(path)


def test_recipe_gains_are_v2_minus_v1_of_the_same_network():
    gains = results.recipe_gains()
    # torchvision 0.29.1 metadata: ResNet-50 IMAGENET1K_V1 76.13, IMAGENET1K_V2 80.858 (Vryniotis 2021: 4.728 points)
    assert round(gains["resnet50"], 3) == 4.728
    v2_rows = {r["network"] for r in results.load() if results.weights_version(r) == "V2"}
    assert set(gains) == v2_rows and len(gains) == 11 and all(g > 0 for g in gains.values())
