"""The hostile-submission corpus of lesson 01: one student per case, each with the scores it must get.

Placeholders in the code (``@SOLUTIONS@``, ``@GRADEBOOK@``, ``@OTHER@``, ``@RESULTS@``, ``@ROOT@``,
``@PORT@``) are replaced by the real paths of the grading run, so the attacks aim at what exists.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from hostile import Case, Lesson, cell_index, json_bytes

LESSON = ("01_neurons", "01_neurons.ipynb")
NEURON, LINEAR, COUNT, COLLAPSE = (
    "test_neuron__*",
    "test_linear__*",
    "test_count_parameters__*",
    "test_collapse_linear_stack__*",
)
LINEAR_USERS = (LINEAR, "test_Linear__forward", "test_MLP__*")

CORRECT_NEURON = "def neuron(x, w, b, activation):\n    return activation(x @ w + b)\n"
CORRECT_COUNT = (
    "def count_parameters(model):\n    return sum(p.numel() for p in model.parameters() if p.requires_grad)\n"
)


def _without(gid: str) -> Any:
    def edit(nb: Any) -> Any:
        del nb.cells[cell_index(nb, gid)]
        return nb

    return edit


def _edited(*gids: str) -> Any:
    def edit(nb: Any) -> Any:
        for gid in gids:
            nb.cells[cell_index(nb, gid)].source = "# the test, emptied by the student\npass\n"
        return nb

    return edit


def _duplicated(gid: str, copies: int) -> Any:
    def edit(nb: Any) -> Any:
        i = cell_index(nb, gid)
        for k in range(copies):
            twin = copy.deepcopy(nb.cells[i])
            twin.id = f"{twin.id}-{k}"
            nb.cells.insert(i, twin)
        return nb

    return edit


def _stripped(gid: str) -> Any:
    def edit(nb: Any) -> Any:
        nb.cells[cell_index(nb, gid)].metadata = {}
        return nb

    return edit


def _truncated(nb: Any) -> bytes:
    raw = json_bytes(nb)
    return raw[: len(raw) // 2]


def _nul_bytes(nb: Any) -> bytes:
    raw = json_bytes(nb)
    return raw.replace(b'{\n  "cell_type"', b'{\x00\n  "cell_type"', 5).replace(b'"metadata"', b'\x00"metadata"', 3)


# a correct linear, after a first line that tampers with the judge's modules (the seal's cases)
_TAMPER_AT_TOP = """
{}
def linear(input, weight, bias=None):
    out = input @ weight.T
    return out if bias is None else out + bias
"""


def cases(lesson: Lesson) -> list[Case]:
    sol = lesson.solutions
    return [
        Case("solution", "the solution, written into the release notebook"),
        Case("release", "the untouched release", zero=("*",), status="failed", edit=lambda nb: lesson.release),
        # The student's own MLP uses their patched sigmoid in the hidden nn.Sigmoid case: it loses that test too.
        Case(
            "rebind_reference",
            "`torch.sigmoid = ...` (and F.sigmoid, Tensor.sigmoid) rebound to match a wrong neuron",
            zero=(NEURON, "test_MLP__activation_argument"),
            status="failed",
            exercises={
                "neuron": """
                import torch
                import torch.nn.functional as F
                torch.sigmoid = F.sigmoid = lambda z: torch.zeros_like(z)
                torch.Tensor.sigmoid = lambda self: torch.zeros_like(self)
                def neuron(x, w, b, activation):
                    return torch.zeros(x.shape[0])
                """
            },
        ),
        Case(
            "rebind_F_linear",
            "`F.linear = ...` rebound to the student's wrong linear",
            zero=LINEAR_USERS,
            status="failed",
            exercises={
                "linear": """
                import torch
                import torch.nn.functional as F
                def _zeros(input, weight, bias=None):
                    return torch.zeros(*input.shape[:-1], weight.shape[0], dtype=input.dtype)
                F.linear = _zeros
                torch.nn.functional.linear = _zeros
                def linear(input, weight, bias=None):
                    return F.linear(input, weight, bias)
                """
            },
        ),
        Case(
            "patch_allclose",
            "torch.allclose / torch.equal / assert_close / Tensor.__eq__ patched to agree",
            zero=(COUNT,),
            status="failed",
            review="torch.allclose = ...",
            exercises={
                "count_parameters": """
                import torch
                torch.allclose = lambda *a, **k: True
                torch.equal = lambda *a, **k: True
                torch.testing.assert_close = lambda *a, **k: None
                torch.Tensor.__eq__ = lambda self, other: torch.ones((), dtype=torch.bool)
                def count_parameters(model):
                    return 0
                """
            },
        ),
        Case(
            "patch_checks",
            "autograder.checks functions and ag.check_function patched to pass",
            zero=(COLLAPSE,),
            status="failed",
            exercises={
                "collapse_linear_stack": """
                import contextlib
                import autograder
                import autograder.checks
                ag.check_function = autograder.checks.check_function = lambda *a, **k: None
                autograder.checks.compare = lambda *a, **k: None
                autograder.checks.call_student = lambda fn, case, **k: None
                autograder.check = autograder.checks.check = lambda *a, **k: None
                autograder.reference.pristine = contextlib.nullcontext
                def collapse_linear_stack(layers):
                    n_out, n_in = layers[-1].weight.shape[0], layers[0].weight.shape[1]
                    return torch.zeros(n_out, n_in), torch.zeros(n_out)
                """
            },
        ),
        Case(
            "fake_ag",
            "`ag` replaced by a fake whose checks do nothing (also in sys.modules)",
            zero=(COUNT,),
            status="failed",
            exercises={
                "count_parameters": """
                import sys
                class _Fake:
                    def __getattr__(self, name):
                        return lambda *a, **k: None
                ag = _Fake()
                sys.modules["autograder"] = sys.modules["autograder.checks"] = ag
                def count_parameters(model):
                    return -1
                """
            },
        ),
        Case(
            "rebind_helpers",
            "a locked helper (the reference a test uses) rebound to the student's function",
            zero=(COLLAPSE,),
            status="failed",
            exercises={
                "collapse_linear_stack": """
                def collapse_linear_stack(layers):
                    return layers[0].weight.detach(), layers[0].bias.detach()
                collapse_reference = collapse_linear_stack
                seeded_stack = lambda sizes, bias=True, seed=40: [torch.nn.Linear(sizes[0], sizes[1])]
                """
            },
        ),
        Case(
            "ipython_transformer",
            "IPython input and AST transformers that would empty the test cells",
            zero=(NEURON,),
            status="failed",
            exercises={
                "neuron": """
                ip = get_ipython()
                ip.input_transformers_post.append(lambda lines: [])
                ip.ast_transformers.append(object())
                ip.events.register("pre_run_cell", lambda *a: None)
                def neuron(x, w, b, activation):
                    return activation(x @ w)
                """
            },
        ),
        Case(
            "mutate_input",
            "the caller's input changed in place so that a reference computed after agrees",
            zero=(NEURON,),
            status="failed",
            exercises={
                "neuron": """
                def neuron(x, w, b, activation):
                    out = activation(x @ w + b)
                    x.zero_()
                    w.zero_()
                    return out
                """
            },
        ),
        Case(
            "shipped_modules",
            "torch.py, numpy.py and a helper module shipped beside the notebook",
            log="shadow import: not found",
            files={
                "torch.py": "import os\nos._exit(3)\n",
                "numpy.py": "raise SystemExit('shadow numpy')\n",
                "student_helpers.py": "print('SHADOW HELPERS IMPORTED')\n",
            },
            exercises={
                "count_parameters": """
                try:
                    import student_helpers
                    _SHADOW = True
                except ImportError:
                    _SHADOW = False
                print("shadow import:", "imported" if _SHADOW else "not found")
                def count_parameters(model):
                    return -1 if _SHADOW else sum(p.numel() for p in model.parameters() if p.requires_grad)
                """
            },
        ),
        Case(
            "tensor_subclass",
            "a tensor subclass whose comparisons always succeed",
            zero=(NEURON,),
            status="failed",
            review="__torch_function__",
            exercises={
                "neuron": """
                class Agreeable(torch.Tensor):
                    def __eq__(self, other):
                        return True
                    def __ne__(self, other):
                        return False
                    @classmethod
                    def __torch_function__(cls, func, types, args=(), kwargs=None):
                        if getattr(func, "__name__", "") in ("allclose", "equal", "isclose", "eq", "__eq__"):
                            return True
                        return super().__torch_function__(func, types, args, kwargs or {})
                def neuron(x, w, b, activation):
                    return torch.zeros(x.shape[0]).as_subclass(Agreeable)
                """
            },
        ),
        Case(
            "sigint_loop",
            "an endless loop that ignores SIGINT, SIGTERM and SIGALRM",
            zero=(NEURON,),
            status="timeout",
            exercises={
                "neuron": """
                import signal
                def neuron(x, w, b, activation):
                    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGALRM):
                        signal.signal(s, signal.SIG_IGN)
                    while True:
                        pass
                """
            },
        ),
        Case(
            "memory_bomb",
            "allocates until memory runs out",
            zero=(COUNT,),
            status="memory",
            exercises={
                "count_parameters": """
                def count_parameters(model):
                    hog = []
                    while True:
                        hog.append(torch.empty(10 ** 8))
                """
            },
        ),
        Case(
            "fork_background",
            "a detached, double-forked background process named nnlab-hostile",
            exercises={
                "collapse_linear_stack": sol["collapse_linear_stack"]
                + """
import ctypes, os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        ctypes.CDLL(None).prctl(15, b"nnlab-hostile", 0, 0, 0)
        while True:
            time.sleep(0.05)
    os._exit(0)
"""
            },
        ),
        Case(
            "read_secrets",
            "reads the solutions, the gradebook, the results and another student's work",
            log="found 0",
            exercises={
                "neuron": """
                import glob, os
                _found = []
                for _path in [@SOLUTIONS@, @GRADEBOOK@, @OTHER@, @RESULTS@, "/etc/shadow", "/root"]:
                    try:
                        if os.path.isdir(_path):
                            _found += os.listdir(_path)
                        else:
                            with open(_path, "rb") as _f:
                                _found.append(_f.read(100))
                        print("READ", _path)
                    except OSError as _e:
                        print("blocked", _path, type(_e).__name__)
                _found += glob.glob(@ROOT@ + "/**/*.ipynb", recursive=True)
                print("found", len(_found))
                def neuron(x, w, b, activation):
                    return torch.zeros(x.shape[0]) if _found else activation(x @ w + b)
                """
            },
        ),
        Case(
            "hidden_test_snoop",
            "searches the process's memory for hidden tests and solutions",
            log="snooped 0 []",
            review="gc.get_objects",
            exercises={
                "count_parameters": """
                import gc
                # the needles are built at run time, so that this cell's own text is not a hit
                _PARTS = (["HIDDEN", "TESTS"], ["BEGIN", "SOLUTION"], ["with", "the", "identity"])
                _NEEDLES = [" ".join(p) for p in _PARTS]
                _hits = []
                _o = _s = None  # bound before the loop: the scan also walks this cell's namespace
                for _o in gc.get_objects():
                    if _o is _NEEDLES:
                        continue
                    for _s in (_o if isinstance(_o, (list, tuple, dict)) else [_o]):
                        if isinstance(_s, str) and any(n in _s for n in _NEEDLES):
                            _hits.append(_s[:200])
                print("snooped", len(_hits), _hits[:5])
                def count_parameters(model):
                    return -1 if _hits else sum(p.numel() for p in model.parameters() if p.requires_grad)
                """
            },
        ),
        Case(
            "output_flood",
            "prints 10 MB to stdout and stderr on every call (the log is capped)",
            log="more bytes of output were dropped",
            exercises={
                "count_parameters": """
                import sys
                def count_parameters(model):
                    chunk = "x" * 1000 + "\\n"
                    for _ in range(5_000):
                        sys.stdout.write(chunk)
                        sys.stderr.write(chunk)
                    return sum(p.numel() for p in model.parameters() if p.requires_grad)
                """
            },
        ),
        Case(
            "os_exit",
            "os._exit(0) inside the function",
            zero=(COUNT,),
            status="crashed",
            exercises={"count_parameters": "import os\ndef count_parameters(model):\n    os._exit(0)\n"},
        ),
        Case(
            "sys_exit_in_function",
            "sys.exit(3) inside the function",
            zero=(COLLAPSE,),
            status="failed",
            exercises={"collapse_linear_stack": "import sys\ndef collapse_linear_stack(layers):\n    sys.exit(3)\n"},
        ),
        Case(
            "sys_exit_top_level",
            "sys.exit() at the end of an exercise cell (after a correct definition)",
            exercises={"linear": sol["linear"] + "\nimport sys\nsys.exit()\n"},
        ),
        Case(
            "kill_parent",
            "os.kill(os.getppid(), 9) and os.kill(-1, 9), then a correct answer",
            log="kill -1",
            exercises={
                "neuron": """
                import os, signal
                def neuron(x, w, b, activation):
                    for target in (os.getppid(), -1):
                        try:
                            os.kill(target, signal.SIGKILL)
                            print("kill", target, "sent")
                        except OSError as e:
                            print("kill", target, type(e).__name__)
                    return activation(x @ w + b)
                """
            },
        ),
        Case(
            "segfault",
            "a segmentation fault (ctypes reads address 0)",
            zero=(COLLAPSE,),
            status="crashed",
            exercises={
                "collapse_linear_stack": "import ctypes\ndef collapse_linear_stack(layers):\n"
                "    return ctypes.string_at(0)\n"
            },
        ),
        Case(
            "protocol_garbage",
            "writes garbage into every open file descriptor (the grader's channel too)",
            zero=(COUNT,),
            status="crashed",
            exercises={
                "count_parameters": """
                import os
                def count_parameters(model):
                    for fd in range(3, 64):
                        try:
                            os.write(fd, b"\\xff" * 64)
                        except OSError:
                            pass
                    return sum(p.numel() for p in model.parameters() if p.requires_grad)
                """
            },
        ),
        Case(
            "process_swarm",
            "forks 100 sleeping processes",
            zero=(COUNT,),
            status="killed",
            exercises={
                "count_parameters": """
                import os, time
                def count_parameters(model):
                    for _ in range(100):
                        if os.fork() == 0:
                            time.sleep(60)
                            os._exit(0)
                    time.sleep(5)
                    return sum(p.numel() for p in model.parameters() if p.requires_grad)
                """
            },
        ),
        Case(
            "hang_top_level",
            "an endless loop at the top of an exercise cell",
            zero=(COUNT,),
            status="failed",
            exercises={"count_parameters": "while True:\n    pass\n" + CORRECT_COUNT},
        ),
        Case(
            "network",
            "opens TCP connections (a local listener, an outside address)",
            log="network blocked",
            exercises={
                "neuron": """
                import socket
                _net = []
                for _addr in [("127.0.0.1", @PORT@), ("10.255.255.1", 80)]:
                    try:
                        socket.create_connection(_addr, timeout=1).close()
                        _net.append(_addr)
                    except OSError as e:
                        print("network blocked", _addr, type(e).__name__)
                def neuron(x, w, b, activation):
                    return torch.zeros(x.shape[0]) if _net else activation(x @ w + b)
                """
            },
        ),
        Case(
            "forbidden_reference",
            "linear calls F.linear, which the exercise forbids",
            zero=(LINEAR, "test_Linear__forward"),
            status="failed",
            exercises={
                "linear": """
                import torch.nn.functional as F
                def linear(input, weight, bias=None):
                    return F.linear(input, weight, bias)
                """
            },
        ),
        Case(
            "patch_guard",
            "disables ag.forbid/time_limit in its own process, then calls F.linear",
            zero=(LINEAR, "test_Linear__forward"),
            status="failed",
            review="autograder.guard.forbid = ...",
            exercises={
                "linear": """
                import contextlib
                import autograder, autograder.guard
                autograder.guard.forbid = autograder.forbid = lambda *a: contextlib.nullcontext([])
                autograder.guard.time_limit = autograder.time_limit = lambda s: contextlib.nullcontext()
                import torch.nn.functional as F
                def linear(input, weight, bias=None):
                    return F.linear(input, weight, bias)
                """
            },
        ),
        # The seal (autograder/grading/seal.py): each route to the guard's helpers, rebound by a correct answer
        # that would otherwise pass; put back, and the exercise fails with what it changed.
        Case(
            "seal_module_global",
            "rebinds a module global of the guard (_resolve: every ban list resolves to nothing) at the top",
            zero=(LINEAR,),  # the guard is whole again for Linear and MLP, which call it
            status="failed",
            review="touches the grader's own package",
            exercises={
                "linear": _TAMPER_AT_TOP.format(
                    "import types, autograder.guard as _g\n"
                    "_g._resolve = lambda paths: (frozenset(), None, types.MappingProxyType({}))"
                )
            },
        ),
        Case(
            "seal_class_attribute",
            "rebinds a class attribute of the guard (_Spy.forbidden: nothing is forbidden) at the top of the cell",
            zero=(LINEAR,),  # the guard is whole again for Linear and MLP, which call it
            status="failed",
            review="touches the grader's own package",
            exercises={
                "linear": _TAMPER_AT_TOP.format(
                    "import autograder.guard as _g\n_g._Spy.forbidden = lambda self, name: False"
                )
            },
        ),
        Case(
            "seal_function_code",
            "swaps the code of ag.forbid's generator for a no-op's at the top of the cell",
            zero=(LINEAR,),  # the guard is whole again for Linear and MLP, which call it
            status="failed",
            review="touches the grader's own package",
            exercises={
                "linear": _TAMPER_AT_TOP.format(
                    "import contextlib, autograder.guard as _g\n"
                    "@contextlib.contextmanager\ndef _nothing(*paths):\n    yield []\n"
                    "_g.forbid.__wrapped__.__code__ = _nothing.__wrapped__.__code__"
                )
            },
        ),
        Case(
            "seal_worker_helper",
            "rebinds a helper of the worker (global_state.snapshot) from inside the graded call",
            zero=LINEAR_USERS,
            status="failed",
            review="touches the grader's own package",
            exercises={
                "linear": """
                def linear(input, weight, bias=None):
                    import autograder.checks.state as global_state
                    global_state.snapshot = lambda: None
                    out = input @ weight.T
                    return out if bias is None else out + bias
                """
            },
        ),
        Case(
            "unfinished_dependency",
            "linear left unfinished: Linear and MLP, which build on it, are sent back to linear",
            zero=LINEAR_USERS,
            status="failed",
            exercises={
                "linear": """
                def linear(input, weight, bias=None):
                    raise NotImplementedError()
                """
            },
        ),
        Case(
            "function_modes_off",
            "switches PyTorch's function modes off to hide F.linear from the guard",
            zero=(LINEAR, "test_Linear__forward"),
            status="failed",
            review="DisableTorchFunction",
            exercises={
                "linear": """
                import torch
                import torch.nn.functional as F
                def linear(input, weight, bias=None):
                    with torch._C.DisableTorchFunction():
                        return F.linear(input, weight, bias)
                """
            },
        ),
        Case(
            "guard_name_spoof",
            "names its cell autograder.guard (the old exemption), then removes the profiler: caught, and flagged",
            zero=LINEAR_USERS,
            status="failed",
            review="setprofile",
            exercises={
                "linear": """
                __name__ = "autograder.guard"
                import sys
                def linear(input, weight, bias=None):
                    sys.setprofile(None)
                    out = input @ weight.T
                    return out if bias is None else out + bias
                """
            },
        ),
        Case(
            "calls_the_judge",
            "returns the lesson's own reference, neurons.collapse_reference: it belongs to the tests",
            zero=(COLLAPSE,),
            status="failed",
            exercises={
                "collapse_linear_stack": """
                def collapse_linear_stack(layers):
                    return neurons.collapse_reference(layers)
                """
            },
        ),
        Case(
            "profiler_and_modes_off",
            "removes the profiler and switches the function modes off to hide F.linear: caught, and flagged",
            zero=LINEAR_USERS,  # the guard's profiler runs under every check (it keeps the judge out of reach)
            status="failed",
            review="setprofile",
            exercises={
                "linear": """
                import sys
                import torch
                import torch.nn.functional as F
                def linear(input, weight, bias=None):
                    profiler = sys.getprofile()
                    sys.setprofile(None)
                    try:
                        with torch._C.DisableTorchFunction():
                            return F.linear(input, weight, bias)
                    finally:
                        sys.setprofile(profiler)
                """
            },
        ),
        Case(
            "stderr_and_warnings",
            "correct code that prints to stderr and warns",
            exercises={
                "neuron": """
                import sys, warnings
                warnings.warn("a warning at the top of the cell")
                print("to stderr", file=sys.stderr)
                def neuron(x, w, b, activation):
                    print("neuron called", file=sys.stderr)
                    warnings.warn("a harmless warning", UserWarning)
                    warnings.warn("an old API", DeprecationWarning)
                    return activation(x @ w + b)
                """
            },
        ),
        Case(
            "deleted_test_cell",
            "a test cell deleted",
            repair="restored deleted test cell test_neuron__example",
            edit=_without("test_neuron__example"),
        ),
        Case(
            "edited_test_cell",
            "test cells emptied (with a wrong answer)",
            zero=(COUNT,),
            status="failed",
            repair="restored edited test cell test_count_parameters__layers",
            edit=_edited("test_count_parameters__layers", "test_count_parameters__frozen_and_shared"),
            exercises={"count_parameters": "def count_parameters(model):\n    return 0\n"},
        ),
        Case(
            "duplicated_test_cell",
            "a test cell duplicated twice",
            repair="removed 2 duplicate(s) of test cell test_MLP__matches_sequential",
            edit=_duplicated("test_MLP__matches_sequential", 2),
        ),
        Case(
            "stripped_test_metadata",
            "a test cell's nbgrader metadata removed",
            repair="restored test cell test_collapse_linear_stack__no_bias (its nbgrader metadata had been removed)",
            edit=_stripped("test_collapse_linear_stack__no_bias"),
        ),
        Case(
            "stripped_exercise_metadata",
            "an exercise cell's nbgrader metadata removed (matched by name)",
            repair="exercise cell neuron had lost its nbgrader metadata",
            edit=_stripped("neuron"),
        ),
        Case("corrupt_json", "the file cut in half (not JSON)", zero=("*",), status="corrupt", edit=_truncated),
        Case("nul_bytes", "NUL bytes in the file", repair="NUL byte", edit=_nul_bytes),
        Case(
            "renamed_notebook",
            "submitted as '01_neurons (1).ipynb'",
            repair="misnamed",
            filename="01_neurons (1).ipynb",
        ),
    ]


def substitute(code: str, paths: dict[str, str]) -> str:
    for key, value in paths.items():
        code = code.replace(f"@{key}@", json.dumps(value) if key != "PORT" else value)
    return code
