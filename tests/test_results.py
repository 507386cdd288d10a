"""The published-results file: well formed, cited, and joined with the right counts."""

import pytest
from convnets import results, zoo


def test_rows_are_complete():
    rows = results.load()
    assert len(rows) >= 40
    for r in rows:
        assert r["top1"] is not None or r["top5"] is not None
        assert r["source"] in ("paper", "weights") and r["cite"] and r["where"]


def test_spot_values_against_their_sources():
    by = {(r["network"], r["source"]): r for r in results.load()}
    # torchvision 0.29.1 weight metadata, ResNet50_Weights.IMAGENET1K_V1
    assert by[("resnet50", "weights")]["top1"] == 76.13
    # Simonyan & Zisserman (2015), Table 3: config. D, test scale 384, top-1 error 25.6%
    assert by[("vgg16", "paper")]["top1"] == pytest.approx(100 - 25.6)
    assert by[("vgg16", "paper")]["test_size"] == 384
    # He et al. (2016), Table 3, 10-crop: ResNet-152 top-1 error 21.43%
    assert by[("resnet152-v1", "paper")]["top1"] == pytest.approx(100 - 21.43)
    # Tan & Le (2019), Table 2: B7 84.3% at 600x600
    assert by[("efficientnet-b7", "paper")]["top1"] == 84.3


def test_with_counts_uses_the_test_resolution_of_weights():
    rows = {(r["network"], r["source"]): r for r in results.with_counts()}
    assert rows[("efficientnet-b2", "weights")]["macs"] == zoo.counts("efficientnet-b2", 288).macs
    assert rows[("efficientnet-b2", "paper")]["macs"] == zoo.counts("efficientnet-b2").macs
    assert ("googlenet", "paper") not in rows          # top-5 only: not on a top-1 plot


def test_top1_by_source():
    weights, paper = results.top1("weights"), results.top1("paper")
    assert weights["resnet50"] == 76.13 and paper["resnet50-v1"] == pytest.approx(100 - 22.85)
    assert "googlenet" not in paper                     # the paper gives top-5 only
    with pytest.raises(ValueError, match="source must be one of"):
        results.top1("blog")


def test_source_text():
    by = {(r["network"], r["source"]): r for r in results.load()}
    assert results.source(by[("resnet50", "weights")]) == "reference weights IMAGENET1K_V1"
    assert results.source(by[("resnet152-v1", "paper")]) == "paper, Table 3, 10-crop testing"


def test_protocol_text():
    row = dict(crops="10", test_size=224)
    assert results.protocol(row) == "10 crops of 224x224"
    assert results.protocol(dict(crops="dense", test_size=384)) == "dense evaluation, smallest side 384"


def test_bad_file_is_rejected(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("network,top1,top5,cite,source,where,crops,test_size,resize\nresnet51,76,93,x,paper,T,1,224,256\n")
    with pytest.raises(ValueError, match="unknown network 'resnet51'"):
        results.load(path)
    path.write_text("network,top1,top5,cite,source,where,crops,test_size,resize\nresnet50,76,93,x,blog,T,1,224,256\n")
    with pytest.raises(ValueError, match="source must be one of"):
        results.load(path)
