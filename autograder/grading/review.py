"""Code an instructor should read: a submission that reaches into the judge or the interpreter.

The sandbox keeps such code from changing a verdict it computes, but ``forbid=`` runs in the student's own
process (see the README's limits): a student who calls C through ``ctypes`` or works in another thread can
call a forbidden reference unseen. Nothing here changes a score; it names the lines, so that
``needs_attention`` is ``yes`` and the instructor looks. The scan reads the code (``ast``), it never runs it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

_MODES = "switches off or edits PyTorch's function modes, which the checks use to see forbidden calls"
_FRAMES = "walks the interpreter's frames or objects, where the grading code lives"
_THREAD = "runs code in another thread, where the checks do not look"

#: a name or attribute, wherever it appears -> why it deserves a look
MARKERS: dict[str, str] = {
    "DisableTorchFunction": _MODES,
    "DisableTorchFunctionSubclass": _MODES,
    "_pop_mode": _MODES,
    "_push_mode": _MODES,
    "_pop_torch_function_stack": _MODES,
    "_push_on_torch_function_stack": _MODES,
    "_get_function_stack_at": _MODES,
    "_len_torch_function_stack": _MODES,
    "_set_torch_function_mode": _MODES,
    "_disable_current_modes": _MODES,
    "__torch_function__": "defines a PyTorch override hook",
    "__torch_dispatch__": "defines a PyTorch override hook",
    "TorchFunctionMode": "defines a PyTorch function mode",
    "TorchDispatchMode": "defines a PyTorch dispatch mode",
    "setprofile": "replaces the interpreter's profiler, which the checks use to see forbidden calls",
    "settrace": "replaces the interpreter's tracer",
    "_getframe": _FRAMES,
    "currentframe": _FRAMES,
    "f_back": _FRAMES,
    "f_globals": _FRAMES,
    "f_locals": _FRAMES,
    "get_referrers": _FRAMES,
    "get_objects": _FRAMES,
    "input_transformers_cleanup": "changes how the notebook's cells are run",
    "input_transformers_post": "changes how the notebook's cells are run",
    "ast_transformers": "changes how the notebook's cells are run",
}

#: a built-in called by its bare name -> why (``model.eval()`` is fine, ``eval(...)`` is not)
BUILTINS: dict[str, str] = {
    "exec": "runs code built from text, which hides what it calls",
    "eval": "runs code built from text, which hides what it calls",
    "compile": "runs code built from text, which hides what it calls",
    "__import__": "imports a module by a name built from text",
}

#: an imported module -> why (only imports count: ``signal`` or ``socket`` may be a student's variable name)
MODULES: dict[str, str] = {
    "ctypes": "calls C functions directly",
    "autograder": "touches the grader's own package",
    "signal": "handles signals, which the time limits use",
    "threading": _THREAD,
    "_thread": _THREAD,
    "concurrent": "runs code in another thread or process, where the checks do not look",
    "subprocess": "starts programs",
    "multiprocessing": "starts processes",
    "socket": "opens network connections",
}

#: a dotted name -> why (``model.modules()`` is fine, ``sys.modules`` is not)
DOTTED: dict[str, str] = {
    "sys.modules": "edits the interpreter's table of modules",
    "os.fork": "starts processes",
    "os.forkpty": "starts processes",
    "os.kill": "sends signals",
    "os.killpg": "sends signals",
}

#: modules whose attributes an exercise has no reason to rebind (``torch.allclose = ...``)
_PATCHABLE = {"torch", "F", "nn", "np", "numpy", "ag", "autograder", "sys", "builtins", "math"}


def _dotted(node: ast.AST) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def _findings(code: str) -> Iterator[tuple[str, str]]:
    """(what, why) for each marker in ``code``; nothing for code that does not parse (the grader reports it)."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            names = [a.name for a in node.names] if isinstance(node, ast.ImportFrom) else []
            for token in [part for m in modules for part in m.split(".")] + names:
                if token in MODULES or token in MARKERS:
                    yield token, MODULES.get(token) or MARKERS[token]
            for module in modules:
                for name in names:
                    if f"{module}.{name}" in DOTTED:  # from os import fork
                        yield f"{module}.{name}", DOTTED[f"{module}.{name}"]
        elif isinstance(node, ast.Attribute) and node.attr in MARKERS:
            yield _dotted(node) or node.attr, MARKERS[node.attr]
        elif isinstance(node, ast.Attribute) and _dotted(node) in DOTTED:
            yield _dotted(node), DOTTED[_dotted(node)]
        elif isinstance(node, ast.Name) and (node.id in MARKERS or node.id in BUILTINS):
            yield node.id, MARKERS.get(node.id) or BUILTINS[node.id]
        elif isinstance(node, ast.FunctionDef) and node.name in MARKERS:
            yield f"def {node.name}", MARKERS[node.name]
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                dotted = _dotted(target) if isinstance(target, ast.Attribute) else ""
                if dotted.split(".")[0] in _PATCHABLE and not dotted.startswith("torch.backends."):  # settings
                    yield f"{dotted} = ...", "rebinds a library function"
        elif isinstance(node, ast.Call) and _dotted(node.func) == "setattr" and node.args:
            if _dotted(node.args[0]).split(".")[0] in _PATCHABLE:
                yield f"setattr({_dotted(node.args[0])}, ...)", "rebinds a library function"


def scan(exercises: dict[str, str]) -> list[str]:
    """One line per exercise cell and reason: ``"linear: torch._C.DisableTorchFunction (switches off ...)"``."""
    out: list[str] = []
    for grade_id, code in exercises.items():
        seen: dict[str, list[str]] = {}
        for what, why in _findings(code):
            if what not in seen.setdefault(why, []):
                seen[why].append(what)
        out += [f"{grade_id}: {', '.join(whats)} ({why})" for why, whats in seen.items()]
    return out
