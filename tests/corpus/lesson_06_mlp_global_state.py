"""Lesson 06 — global state is left as found (issue 12, part 6).

``evaluate`` must not record gradients; switching recording off for the whole process and leaving it off
silently stops the next epoch's training (its loss has no graph).
"""

import torch

from corpus import correct, wrong

LESSON = "06_mlp"
MINIMUM = (1, 1)  # wrong, correct


@wrong("evaluate", "switches gradient recording off with torch.set_grad_enabled(False) and leaves it off")
def evaluate(model, batches, loss_fn):
    model.eval()
    torch.set_grad_enabled(False)
    total_loss, correct, seen = 0.0, 0.0, 0
    for x, target in batches:
        logits = model(x)
        total_loss += loss_fn(logits, target).item() * len(target)
        correct += (logits.argmax(dim=1) == target).sum().item()
        seen += len(target)
    return total_loss / seen, correct / seen


@correct("evaluate", "torch.inference_mode() as a with block")
def evaluate(model, batches, loss_fn):
    model.eval()
    total_loss, correct, seen = 0.0, 0.0, 0
    with torch.inference_mode():
        for x, target in batches:
            logits = model(x)
            total_loss += loss_fn(logits, target).item() * len(target)
            correct += (logits.argmax(dim=1) == target).sum().item()
            seen += len(target)
    return total_loss / seen, correct / seen
