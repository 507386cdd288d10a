import pytest
from convnets import conv_output_size, receptive_field
from convnets.plotting import pareto_front
from convnets.tables import markdown_table, thousands


def test_conv_output_size():
    assert conv_output_size(224, 7, 2, 3) == 112
    assert conv_output_size(227, 11, 4, 0) == 55         # AlexNet's first layer needs 227, not 224
    assert conv_output_size(224, 11, 4, 0) == 54
    assert conv_output_size(112, 3, 2, 0, ceil_mode=True) == 56
    assert conv_output_size(14, 3, 2, 0, ceil_mode=True) == 7
    with pytest.raises(ValueError, match="larger than the padded input"):
        conv_output_size(2, 5, 1, 1)
    with pytest.raises(TypeError, match="stride must be an integer"):
        conv_output_size(8, 3, 1.5)


def test_receptive_field():
    assert receptive_field([(3, 1)] * 2) == 5
    assert receptive_field([(3, 1)] * 3) == 7
    assert receptive_field([(7, 2), (3, 2)]) == 11


def test_markdown_table_and_formats():
    assert markdown_table(["a", "b"], [[1, 2]], "lr") == "| a | b |\n| :-- | --: |\n| 1 | 2 |"
    assert thousands(138357544) == "138,357,544"
    with pytest.raises(ValueError, match=r"rows\[0\] has 1 cells"):
        markdown_table(["a", "b"], [[1]])


def test_pareto_front():
    # cost, accuracy: (1, 70) and (2, 80) and (4, 85) are on the front; (3, 75) is beaten by (2, 80)
    assert list(pareto_front([1, 2, 3, 4], [70, 80, 75, 85])) == [0, 1, 3]


def test_stage_table_sums_to_the_network():
    from convnets import zoo
    from convnets.tables import stage_table

    counts = zoo.counts("resnet50")
    table = stage_table(counts)
    stages = {line.split("|")[1].strip(): int(line.split("|")[2].replace(",", "").strip())
              for line in table.splitlines()[2:-1]}
    assert list(stages) == ["stem", "conv2_x", "conv3_x", "conv4_x", "conv5_x", "classifier"]
    assert sum(stages.values()) == counts.params == 25_557_032
    assert stages["conv5_x"] == 14_964_736        # the last stage holds 59% of ResNet-50's parameters
