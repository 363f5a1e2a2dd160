"""Lesson 06 (06a) — issue 12 part 6: one entry per principle and exercise, each ``why`` tagged with its principle.

[arguments] every argument is varied (loss_fn other than cross-entropy; a learning rate that moves the weights, so
figures measured after the step are seen); [state] the caller's random state, model and gradients are left as
found; [numerics] fragile compositions are caught where the reference is exact (confident logits); [use] the
batches come as the lesson passes them (a train.Batches: iterable, not indexable).
"""

import torch
from torch import nn

from corpus import correct, wrong

LESSON = "06_mlp/06a_mlp_training.ipynb"
MINIMUM = (14, 7)  # wrong, correct

# ---------------------------------------------------------------- [arguments]


@wrong("train_one_epoch", "[arguments] loss and accuracy measured after optimizer.step(), on the updated weights")
def train_one_epoch(model, batches, loss_fn, optimizer):
    model.train()
    total, correct, n = 0.0, 0, 0
    for x, y in batches:
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        optimizer.step()
        with torch.no_grad():
            out = model(x)
            total += loss_fn(out, y).item() * len(y)
            correct += (out.argmax(1) == y).sum().item()
        n += len(y)
    return total / n, correct / n


@wrong("train_one_epoch", "[arguments] accuracy from a second forward pass after the step")
def train_one_epoch(model, batches, loss_fn, optimizer):
    model.train()
    total, correct, n = 0.0, 0, 0
    for x, y in batches:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(y)
        correct += (model(x).argmax(1) == y).float().mean().item() * len(y)
        n += len(y)
    return total / n, correct / n


@wrong("train_one_epoch", "[arguments] ignores loss_fn: always nn.functional.cross_entropy")
def train_one_epoch(model, batches, loss_fn, optimizer):
    model.train()
    total, correct, n = 0.0, 0, 0
    for x, y in batches:
        optimizer.zero_grad()
        out = model(x)
        loss = nn.functional.cross_entropy(out, y)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(y)
        correct += (out.argmax(1) == y).sum().item()
        n += len(y)
    return total / n, correct / n


@wrong("evaluate", "[arguments] ignores loss_fn: always nn.functional.cross_entropy")
def evaluate(model, batches, loss_fn):
    model.eval()
    total, correct, n = 0.0, 0, 0
    with torch.no_grad():
        for x, y in batches:
            out = model(x)
            total += nn.functional.cross_entropy(out, y).item() * len(y)
            correct += (out.argmax(1) == y).sum().item()
            n += len(y)
    return total / n, correct / n


@correct("train_one_epoch", "[arguments] figures kept from the forward pass, zero_grad(set_to_none=True) after step")
def train_one_epoch(model, batches, loss_fn, optimizer):
    model.train(True)
    figures = []
    for x, y in iter(batches):
        out = model(x)
        loss = loss_fn(out, y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        figures.append((loss.detach().item() * len(y), (out.detach().argmax(1) == y).sum().item(), len(y)))
    total, hits, n = (sum(column) for column in zip(*figures))
    return total / n, hits / n


@correct("evaluate", "[arguments] loss_fn called once per batch, figures summed in float64")
def evaluate(model, batches, loss_fn):
    model.eval()
    total, hits, n = torch.zeros((), dtype=torch.float64), 0, 0
    with torch.no_grad():
        for x, y in batches:
            out = model(x)
            total += loss_fn(out, y).double() * y.numel()
            hits += int(out.argmax(1).eq(y).sum())
            n += y.numel()
    return float(total / n), hits / n


# ---------------------------------------------------------------- [state]


@wrong("train_one_epoch", "[state] reseeds the global generator at every epoch (torch.manual_seed(0))")
def train_one_epoch(model, batches, loss_fn, optimizer):
    torch.manual_seed(0)  # "reproducible"
    model.train()
    total, correct, n = 0.0, 0, 0
    for x, y in batches:
        optimizer.zero_grad()
        out = model(x)
        loss = loss_fn(out, y)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(y)
        correct += (out.argmax(1) == y).sum().item()
        n += len(y)
    return total / n, correct / n


@wrong("train_one_epoch", "[state] a second training-mode forward pass per batch for the accuracy")
def train_one_epoch(model, batches, loss_fn, optimizer):
    model.train()
    total, correct, n = 0.0, 0, 0
    for x, y in batches:
        with torch.no_grad():
            correct += (model(x).argmax(1) == y).sum().item()
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(y)
        n += len(y)
    return total / n, correct / n


@wrong("evaluate", "[state] reseeds the global generator (torch.manual_seed(0)) before evaluating")
def evaluate(model, batches, loss_fn):
    torch.manual_seed(0)
    model.eval()
    total, correct, n = 0.0, 0, 0
    with torch.no_grad():
        for x, y in batches:
            out = model(x)
            total += loss_fn(out, y).item() * len(y)
            correct += (out.argmax(1) == y).sum().item()
            n += len(y)
    return total / n, correct / n


@wrong("evaluate", "[state] converts the caller's model to float64 in place (model.double())")
def evaluate(model, batches, loss_fn):
    model.eval().double()
    total, correct, n = 0.0, 0, 0
    with torch.no_grad():
        for x, y in batches:
            out = model(x.double())
            total += loss_fn(out, y).item() * len(y)
            correct += (out.argmax(1) == y).sum().item()
            n += len(y)
    return total / n, correct / n


@correct("evaluate", "[state] the random state forked and the model's mode restored afterwards")
def evaluate(model, batches, loss_fn):
    was_training = model.training
    model.eval()
    total, correct, n = 0.0, 0, 0
    with torch.random.fork_rng(), torch.no_grad():
        for x, y in batches:
            out = model(x)
            total += loss_fn(out, y).item() * len(y)
            correct += (out.argmax(1) == y).sum().item()
            n += len(y)
    model.train(was_training)
    return total / n, correct / n


@correct("train_one_epoch", "[state] one forward pass per batch, accuracy from its detached logits")
def train_one_epoch(model, batches, loss_fn, optimizer):
    model.train()
    total, correct, n = 0.0, 0, 0
    for x, y in batches:
        optimizer.zero_grad()
        out = model(x)
        loss = loss_fn(out, y)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(y)
        correct += (out.detach().argmax(1) == y).float().mean().item() * len(y)
        n += len(y)
    return total / n, correct / n


# ---------------------------------------------------------------- [numerics]


@wrong("train_one_epoch", "[numerics] gives loss_fn log(softmax(logits)): -inf for confident logits")
def train_one_epoch(model, batches, loss_fn, optimizer):
    model.train()
    total, correct, n = 0.0, 0, 0
    for x, y in batches:
        optimizer.zero_grad()
        out = model(x)
        loss = loss_fn(torch.log(torch.softmax(out, dim=1)), y)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(y)
        correct += (out.argmax(1) == y).sum().item()
        n += len(y)
    return total / n, correct / n


@wrong("evaluate", "[numerics] gives loss_fn log(softmax(logits)): -inf for confident logits")
def evaluate(model, batches, loss_fn):
    model.eval()
    total, correct, n = 0.0, 0, 0
    with torch.no_grad():
        for x, y in batches:
            out = model(x)
            total += loss_fn(out.softmax(1).log(), y).item() * len(y)
            correct += (out.argmax(1) == y).sum().item()
            n += len(y)
    return total / n, correct / n


@wrong("evaluate", "[numerics] the loss by hand, -log of the softmax at the target")
def evaluate(model, batches, loss_fn):
    model.eval()
    total, correct, n = 0.0, 0, 0
    with torch.no_grad():
        for x, y in batches:
            out = model(x)
            p = out.softmax(1)[torch.arange(len(y)), y]
            total += -p.log().sum().item()
            correct += (out.argmax(1) == y).sum().item()
            n += len(y)
    return total / n, correct / n


@correct("evaluate", "[numerics] loss_fn on the logits, mean loss weighted in Python floats")
def evaluate(model, batches, loss_fn):
    model.eval()
    with torch.no_grad():
        parts = [
            (loss_fn(model(x), y).item(), model(x).argmax(1).eq(y).double().mean().item(), len(y)) for x, y in batches
        ]
    n = sum(size for _, _, size in parts)
    return sum(loss * size for loss, _, size in parts) / n, sum(acc * size for _, acc, size in parts) / n


# ---------------------------------------------------------------- [use]


@wrong("train_one_epoch", "[use] indexes the batches (batches[i]): the lesson's train.Batches is only iterable")
def train_one_epoch(model, batches, loss_fn, optimizer):
    model.train()
    total, correct, n = 0.0, 0, 0
    for i in range(len(batches)):
        x, y = batches[i]
        optimizer.zero_grad()
        out = model(x)
        loss = loss_fn(out, y)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(y)
        correct += (out.argmax(1) == y).sum().item()
        n += len(y)
    return total / n, correct / n


@wrong("evaluate", "[use] indexes the batches (batches[i]): the lesson's train.Batches is only iterable")
def evaluate(model, batches, loss_fn):
    model.eval()
    total, correct, n = 0.0, 0, 0
    with torch.no_grad():
        for i in range(len(batches)):
            x, y = batches[i]
            out = model(x)
            total += loss_fn(out, y).item() * len(y)
            correct += (out.argmax(1) == y).sum().item()
            n += len(y)
    return total / n, correct / n


@correct("evaluate", "[use] one pass over any iterable of batches, samples counted as they come")
def evaluate(model, batches, loss_fn):
    model.eval()
    total, correct, n = 0.0, 0, 0
    with torch.inference_mode():
        for batch in batches:
            x, y = batch
            out = model(x)
            total += loss_fn(out, y).item() * y.shape[0]
            correct += int(out.argmax(dim=1).eq(y).sum())
            n += y.shape[0]
    return total / n, correct / n


@wrong("accuracy", "[use] through NumPy (logits.numpy()): fails on logits attached to a graph, as a loop has them")
def accuracy(logits, target):
    return float((logits.numpy().argmax(1) == target.numpy()).mean())


@correct("accuracy", "[use] NumPy on detached logits")
def accuracy(logits, target):
    return float((logits.detach().numpy().argmax(1) == target.numpy()).mean())
