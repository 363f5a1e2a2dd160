"""nnlab.bench, nnlab.cpu and nnlab.baseline: measured choices and the figures the benchmarks print."""

from __future__ import annotations

import json
import time
from pathlib import Path

import nbformat
import pytest
import torch

from nnlab import baseline, bench, cpu, resnet


def test_pick_threads_keeps_the_faster_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    before = torch.get_num_threads()
    try:
        for slow in (1, 2):  # whichever count is slow, the other one wins

            def step(slow: int = slow) -> None:
                time.sleep(0.004 if torch.get_num_threads() == slow else 0.0005)

            timings = cpu.pick_threads(step, candidates=[1, 2])
            assert set(timings) == {1, 2} and torch.get_num_threads() == 3 - slow, timings
    finally:
        torch.set_num_threads(before)


def test_pick_threads_cuts_a_slower_count_short(monkeypatch: pytest.MonkeyPatch) -> None:
    # on a busy machine one count can be many times slower: it stops once it has spent the best count's 4 steps
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    before = torch.get_num_threads()
    calls = {1: 0, 2: 0}

    def step() -> None:
        calls[torch.get_num_threads()] += 1
        time.sleep(0.001 if torch.get_num_threads() == 1 else 0.3)

    try:
        timings = cpu.pick_threads(step, candidates=[1, 2])
        # each round: 1 thread its warm-up and 4 steps, 2 threads its warm-up only
        assert calls[1] == 5 * cpu.ROUNDS and calls[2] == cpu.ROUNDS, calls
        assert timings[2] > timings[1] and torch.get_num_threads() == 1
        cpu.time_steps(step, 2, steps=2)  # without a limit every step is timed
        assert calls[2] == cpu.ROUNDS + 3
    finally:
        torch.set_num_threads(before)


def test_pick_threads_keeps_each_counts_best_round(monkeypatch: pytest.MonkeyPatch) -> None:
    # a moment of other work slows one round of 2 threads: the other round decides
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    rounds = iter([1.0, 5.0, 1.0, 0.4])  # 1 thread, 2 threads (a busy moment), 1 thread, 2 threads
    monkeypatch.setattr(cpu, "time_steps", lambda step, n, steps=4, limit=0.0: next(rounds))
    before = torch.get_num_threads()
    try:
        assert cpu.ROUNDS == 2
        assert cpu.pick_threads(lambda: None, candidates=[1, 2]) == {1: 1.0, 2: 0.4}
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_pick_threads_keeps_more_threads_only_when_clearly_faster(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    before = torch.get_num_threads()
    try:
        for two, kept in ((0.9, 1), (1 / cpu.MARGIN - 0.01, 2)):  # 1 thread measured at 1.0 s per step
            monkeypatch.setattr(cpu, "time_steps", lambda step, n, steps=4, limit=0.0, two=two: 1.0 if n == 1 else two)
            cpu.pick_threads(lambda: None, candidates=[1, 2])
            assert torch.get_num_threads() == kept, (two, kept)
    finally:
        torch.set_num_threads(before)


def test_pick_threads_keeps_an_explicit_omp_num_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    calls = []
    timings = cpu.pick_threads(lambda: calls.append(1), candidates=[1, 2])
    assert not calls and list(timings) == [torch.get_num_threads()]


def test_thread_candidates_are_one_and_the_default() -> None:
    assert cpu.thread_candidates() == sorted({1, cpu.DEFAULT_THREADS})


def test_probe_step_trains_a_copy_not_the_model() -> None:
    model = torch.nn.Linear(4, 3)
    before = [p.detach().clone() for p in model.parameters()]
    step = cpu.probe_step(model, torch.randn(8, 4), torch.randint(0, 3, (8,)))
    step()
    step()
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters())), "probing must not train the model"
    assert all(p.grad is None for p in model.parameters())


def test_competing_process_runs_and_is_stopped() -> None:
    with cpu.competing_process() as busy:
        assert busy.poll() is None
    assert busy.poll() is not None


def test_comparison_is_the_ratio_per_epoch() -> None:
    course = {"train_seconds": 6.0, "epochs": 3, "test_accuracy": 0.99}
    figures = baseline.comparison(4.0, 0.97, course)
    assert figures["course_seconds_per_epoch"] == 2.0 and figures["ratio"] == 0.5
    assert figures["plain_test_accuracy_after_1_epoch"] == 0.97 and figures["course_test_accuracy"] == 0.99


def test_plain_epoch_trains_with_the_plain_loop() -> None:
    torch.manual_seed(0)
    x, y = torch.randn(256, 2), torch.randint(0, 2, (256,))
    x[:, 0] += 3 * y  # separable along the first feature
    model = torch.nn.Linear(2, 2)
    before = baseline.plain_accuracy(model, x, y)
    seconds = sum(baseline.plain_epoch(model, x, y, lr=0.05) for _ in range(5))
    assert seconds > 0 and baseline.plain_accuracy(model, x, y) > max(before, 0.8)


def test_mlp_baseline_prints_the_comparison(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench.main(["mlp", "--baseline", "--fast"]) == 0
    out = capsys.readouterr().out
    result = json.loads(out.strip().splitlines()[-1])
    figures = result["baseline"]
    assert figures["ratio"] == pytest.approx(
        figures["course_seconds_per_epoch"] / figures["plain_seconds_per_epoch"], rel=0.01
    )
    assert "ratio" in out and 0.0 < result["test_accuracy"] <= 1.0 and "validation_accuracy" in result


def test_fashion_baseline_compares_the_residual_cnn(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench.main(["cnn", "--dataset", "fashion", "--baseline", "--fast"]) == 0
    out = capsys.readouterr().out
    result = json.loads(out.strip().splitlines()[-1])
    figures = result["baseline"]
    assert result["dataset"] == "fashion_mnist" and "residual CNN on Fashion-MNIST" in out
    assert figures["ratio"] == pytest.approx(
        figures["course_seconds_per_epoch"] / figures["plain_seconds_per_epoch"], rel=0.01
    )
    residual = result["models"][resnet.RESIDUAL]
    assert figures["course_test_accuracy"] == result["test_accuracy"] == residual["test_accuracy"]


@pytest.mark.slow
def test_course_reports_each_notebook_against_its_floor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lesson = tmp_path / "solutions" / "00_demo"
    lesson.mkdir(parents=True)
    nb = nbformat.v4.new_notebook()
    marker = tmp_path / "second-cell-runs.txt"
    second = f"import pathlib, time\npathlib.Path({str(marker)!r}).open('a').write('ran ')\ntime.sleep(1.5)"
    nb.cells = [nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell(second)]
    nbformat.write(nb, lesson / "demo.ipynb")
    monkeypatch.setattr(bench, "ROOT", tmp_path)
    result = bench.course(fast=True)
    key = "00_demo/demo.ipynb"
    # the second cell ran once (the notebook), not in the floor run, which executes the set-up cell alone
    assert marker.read_text() == "ran ", "the floor runs the set-up cell alone"
    assert result["notebooks"][key] >= 1.5 and result["floors"][key] > 0
    assert result["ratio_to_floor"] == pytest.approx(result["total_seconds"] / result["floor_seconds"], rel=0.01)


def fake_steps(seconds: dict[str, float], calls: list[str]):
    """step_for(precision) for pick_precision: steps that record their precision; time_steps reads their speed."""

    def step_for(precision: str):
        def step() -> None:
            calls.append(precision)

        step.seconds = seconds[precision]
        return step

    return step_for


@pytest.mark.parametrize(
    ("bf16", "chosen"),
    [(0.5, "bfloat16"), (1.0 / cpu.PRECISION_MARGIN + 0.02, "float32"), (1.0, "float32"), (3.0, "float32")],
)
def test_pick_precision_keeps_bfloat16_only_when_clearly_faster(
    monkeypatch: pytest.MonkeyPatch, bf16: float, chosen: str
) -> None:
    # float32 measured at 1.0 s per step; bfloat16 must beat it by PRECISION_MARGIN (a CPU without bf16 units: 3.0)
    monkeypatch.setattr(cpu, "time_steps", lambda step, n, steps=4, limit=0.0: step.seconds)
    calls: list[str] = []
    precision, timings = cpu.pick_precision(fake_steps({"float32": 1.0, "bfloat16": bf16}, calls))
    assert precision == chosen and timings == {"float32": 1.0, "bfloat16": bf16}


def test_pick_precision_times_both_interleaved_at_the_current_thread_count(monkeypatch: pytest.MonkeyPatch) -> None:
    timed = []

    def time_steps(step, n, steps=4, limit=0.0):
        timed.append((step.precision, n))
        return 1.0

    monkeypatch.setattr(cpu, "time_steps", time_steps)
    steps = {p: fake_steps({"float32": 1.0, "bfloat16": 1.0}, [])(p) for p in cpu.PRECISIONS}
    for p, step in steps.items():
        step.precision = p
    n = torch.get_num_threads()
    cpu.pick_precision(steps.__getitem__)
    assert timed == [("float32", n), ("bfloat16", n)] * 2  # a busy moment does not fall on one precision only


def test_pick_precision_keeps_an_explicit_choice_and_float32_on_cuda() -> None:
    calls: list[str] = []
    step_for = fake_steps({"float32": 1.0, "bfloat16": 0.1}, calls)
    assert cpu.pick_precision(step_for, "cpu", "float32") == ("float32", {})
    assert cpu.pick_precision(step_for, "cpu", "bfloat16") == ("bfloat16", {})
    assert cpu.pick_precision(step_for, torch.device("cuda")) == ("float32", {})  # nothing measured on a GPU
    assert not calls
    with pytest.raises(ValueError, match="precision"):
        cpu.pick_precision(step_for, "cpu", "float16")


def test_pick_precision_falls_back_to_float32_when_bfloat16_fails() -> None:
    def step_for(precision: str):
        def step() -> None:
            if precision == "bfloat16":
                raise RuntimeError("no bfloat16 kernel")

        return step

    assert cpu.pick_precision(step_for)[0] == "float32"


def test_forward_under_bfloat16_autocast_returns_float32_and_keeps_float32_weights() -> None:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    x = torch.randn(16, 4)
    out = cpu.forward(model, x, "bfloat16")
    assert out.dtype == torch.float32
    torch.testing.assert_close(out, model(x), rtol=0.05, atol=0.05)  # bfloat16: 8 bits of mantissa
    torch.nn.functional.cross_entropy(out, torch.randint(0, 3, (16,))).backward()
    assert all(p.dtype == p.grad.dtype == torch.float32 for p in model.parameters())
    assert cpu.forward(model, x).equal(model(x))  # float32: the plain forward
