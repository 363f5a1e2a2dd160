"""nnlab.diagrams: each diagram draws, returns its figure, and writes the sizes it depicts."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest
from matplotlib.patches import Circle, Rectangle

from nnlab import diagrams


def _text(fig: plt.Figure) -> str:
    """Every string drawn in the figure: titles and text artists of every axes."""
    parts = []
    for ax in fig.axes:
        parts += [ax.get_title(), *(t.get_text() for t in ax.texts)]
    return "\n".join(parts)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_neuron_draws_every_input_weight_the_bias_and_the_activation() -> None:
    fig = diagrams.neuron(4, activation="tanh")
    assert isinstance(fig, plt.Figure)
    text = _text(fig)
    for i in range(1, 5):
        assert f"$x_{i}$" in text and f"$w_{i}$" in text
    assert "bias" in text and "tanh" in text and "$y$" in text
    assert "$x_5$" not in text


def test_mlp_labels_each_weight_with_its_out_in_shape_and_counts_parameters() -> None:
    fig = diagrams.mlp((3, 4, 5, 2))
    text = _text(fig)
    assert "$W_1$: (4, 3)" in text and "$W_2$: (5, 4)" in text and "$W_3$: (2, 5)" in text
    assert "$b_3$: (2,)" in text
    assert f"{4 * 4 + 5 * 5 + 2 * 6} parameters" in text and "3-layer MLP" in text
    units = [p for p in fig.axes[0].patches if isinstance(p, Circle)]
    assert len(units) == 3 + 4 + 5 + 2


def test_mlp_draws_at_most_eight_units_per_layer_but_labels_the_true_width() -> None:
    fig = diagrams.mlp((784, 256, 10))
    assert "784 features" in _text(fig) and "$W_1$: (256, 784)" in _text(fig)
    assert len([p for p in fig.axes[0].patches if isinstance(p, Circle)]) == 8 + 8 + 8


def test_fans_of_a_linear_and_a_conv_weight() -> None:
    fig = diagrams.fans((5, 7), (4, 3, 2, 5))
    left, right = (ax.get_title() for ax in fig.axes)
    assert "shape (5, 7)" in left and "fan_in = 7" in left and "fan_out = 5" in left
    assert "shape (4, 3, 2, 5)" in right and "fan_in = 3·2·5 = 30" in right and "fan_out = 4·2·5 = 40" in right
    kernel_cells = [p for p in fig.axes[1].patches if isinstance(p, Rectangle) and p.get_fill()]
    assert len(kernel_cells) == 4 * 3 * 2 * 5  # one square per weight entry


@pytest.mark.parametrize(("size", "kernel", "stride", "padding"), [(5, 3, 2, 1), (7, 3, 3, 0), (4, 4, 1, 0)])
def test_sliding_window_output_size_is_pytorchs(size: int, kernel: int, stride: int, padding: int) -> None:
    import torch

    expected = torch.nn.functional.conv2d(
        torch.zeros(1, 1, size, size), torch.zeros(1, 1, kernel, kernel), stride=stride, padding=padding
    ).shape[-1]
    text = _text(diagrams.sliding_window(size, kernel, stride, padding))
    assert f"output {expected}×{expected}" in text and f"= {expected}$" in text
    assert f"input {size}×{size}, padding {padding}" in text
    assert ("in no window" in text) == ((size + 2 * padding - kernel) % stride != 0)


def test_sliding_window_rejects_a_kernel_larger_than_the_padded_input() -> None:
    with pytest.raises(ValueError, match="no window fits"):
        diagrams.sliding_window(3, 5, 1, 0)


def test_im2col_columns_are_unfolds() -> None:
    import torch

    size, kernel, stride, channels = 4, 3, 1, 2
    fig = diagrams.im2col(size, kernel, stride, channels)
    pixels = torch.arange(channels * size * size, dtype=torch.float64).reshape(1, channels, size, size)
    columns = torch.nn.functional.unfold(pixels, kernel, stride=stride)[0]  # (C·k·k, L)
    rows, windows = columns.shape
    assert f"= ({rows}, {windows})" in _text(fig)
    ax = fig.axes[0]
    x_mat = channels * (size + 1) + 2
    drawn = {}
    for t in ax.texts:
        x, y = t.get_position()
        if x > x_mat and t.get_text().isdigit():
            drawn[int(-y - 0.5), int(x - x_mat - 0.5)] = int(t.get_text())
    assert drawn == {(k, w): int(columns[k, w]) for k in range(rows) for w in range(windows)}


def test_receptive_field_matches_the_recurrence() -> None:
    text = _text(diagrams.receptive_field([(3, 1), (3, 1)]))
    assert "after 2 layers: 5 pixels" in text and "5 input pixels" in text
    text = _text(diagrams.receptive_field([(3, 2), (3, 1)]))
    assert "receptive field 3, jump 2" in text and "after 2 layers: 7 pixels" in text
    assert "7 input pixels" in text  # the highlighted units below the chosen one span the whole field
    with pytest.raises(ValueError):
        diagrams.receptive_field([])


def test_mlp_graph_writes_every_tensors_shape() -> None:
    text = _text(diagrams.mlp_graph(batch=32, in_features=5, hidden=7, classes=4))
    for shape in [
        "(N, D) = (32, 5)",
        "(H, D) = (7, 5)",
        "(H,) = (7,)",
        "(N, H) = (32, 7)",
        "(C, H) = (4, 7)",
        "(C,) = (4,)",
        "(N, C) = (32, 4)",
        "(N,) = (32,)",
        "shape (): a scalar",
    ]:
        assert shape in text, shape
    with pytest.raises(ValueError):
        diagrams.mlp_graph(batch=0)
