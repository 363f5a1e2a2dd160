"""PyTorch's own test inputs as a peer suite: the course's reference solutions of the exercises that mirror an
OpInfo'd function agree with PyTorch on every OpInfo sample input whose arguments their signatures take.

``torch.testing._internal.common_methods_invocations.op_db`` (needs ``expecttest``, pinned in
requirements.txt; torch is pinned, so this internal module is stable) gives each operator's sample inputs;
on CPU in float32 and float64 each sample is fed to the solution and to PyTorch. A sample whose arguments
the exercise does not take (``dtype=``, ``ignore_index=``...) is counted as skipped. A solution must agree
with PyTorch on every sample it takes: where it once raised (an empty softmax, an unbatched ``nll_loss``,
``cross_entropy`` over (N, C, d1, d2) probabilities, ``conv2d`` with ``padding="valid"`` or one image), it
now does what PyTorch does.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import warnings
from collections import Counter

import pytest
import torch

import harness
from autograder import notebook

#: notebook -> exercise -> the OpInfo it mirrors
MIRRORS = {
    "01_neurons/01_neurons.ipynb": {"linear": "nn.functional.linear"},
    "03_activations/01_sigmoid.ipynb": {"sigmoid": "sigmoid"},
    "03_activations/02_tanh.ipynb": {"tanh": "tanh"},
    "03_activations/03_relu.ipynb": {"relu": "nn.functional.relu"},
    "03_activations/04_leaky_relu.ipynb": {"leaky_relu": "nn.functional.leaky_relu"},
    "03_activations/05_softmax.ipynb": {"softmax": "softmax", "log_softmax": "log_softmax"},
    "03_activations/06_modern.ipynb": {
        "elu": "nn.functional.elu",
        "gelu": "nn.functional.gelu",
        "silu": "nn.functional.silu",
        "softplus": "nn.functional.softplus",
        "mish": "nn.functional.mish",
    },
    "04_losses/01_regression_and_binary_losses.ipynb": {
        "mse_loss": "nn.functional.mse_loss",
        "l1_loss": "nn.functional.l1_loss",
        "huber_loss": "nn.functional.huber_loss",
        "binary_cross_entropy": "nn.functional.binary_cross_entropy",
        "binary_cross_entropy_with_logits": "nn.functional.binary_cross_entropy_with_logits",
    },
    "04_losses/02_multiclass_losses.ipynb": {
        "nll_loss": "nn.functional.nll_loss",
        "cross_entropy": "nn.functional.cross_entropy",
        "kl_div": "nn.functional.kl_div",
    },
    "07_cnn/07_cnn.ipynb": {"conv2d": "nn.functional.conv2d", "max_pool2d": "nn.functional.max_pool2d"},
}
DTYPES = (torch.float32, torch.float64)


def _ops() -> dict:
    from torch.testing._internal.common_methods_invocations import op_db

    return {op.name: op for op in op_db if not op.variant_test_name}


def _describe(sample: object) -> str:
    def short(a: object) -> object:
        return tuple(a.shape) if isinstance(a, torch.Tensor) else a

    return f"input {short(sample.input)}, args {[short(a) for a in sample.args]}, kwargs {sample.kwargs}"  # type: ignore[attr-defined]


@pytest.mark.slow
def test_solutions_agree_with_pytorch_on_its_opinfo_samples() -> None:
    ops = _ops()
    totals: Counter = Counter()
    problems: list[str] = []
    for path, exercises in MIRRORS.items():
        lesson = notebook.load(harness.SOLUTIONS / path)
        with contextlib.redirect_stdout(io.StringIO()):
            ns = notebook.namespace_for(lesson)
        for name, op_name in exercises.items():
            fn, op = ns[name], ops[op_name]
            signature = inspect.signature(fn)
            counts: Counter = Counter()
            for dtype in DTYPES:
                for sample in op.sample_inputs("cpu", dtype, requires_grad=False):
                    try:
                        signature.bind(sample.input, *sample.args, **sample.kwargs)
                    except TypeError:
                        counts["skipped"] += 1
                        continue
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        expected = op.op(sample.input, *sample.args, **sample.kwargs)
                        try:
                            got = fn(sample.input.clone(), *sample.args, **sample.kwargs)
                        except Exception as exc:  # noqa: BLE001 - recorded as a disagreement
                            got = exc
                    try:
                        assert not isinstance(got, Exception), f"raised {type(got).__name__}: {got}"
                        torch.testing.assert_close(got, expected, equal_nan=True)
                        counts["agree"] += 1
                    except AssertionError as exc:
                        counts["disagree"] += 1
                        problems.append(f"{name} {dtype} {_describe(sample)}: {str(exc).splitlines()[0][:200]}")
            print(f"{name} ~ {op_name}: {dict(counts)}")
            totals.update(counts)
            # gelu's samples all pass approximate=, max_pool2d's padding= or dilation=, which the exercises omit
            assert counts["agree"] or name in ("gelu", "max_pool2d"), f"{name}: no OpInfo sample was taken"
    taken = totals["agree"] + totals["disagree"]
    print(f"OpInfo peer suite: {totals['agree']} of {taken} samples agree ({totals['skipped']} skipped)")
    assert taken >= 300, totals
    assert not problems, problems
