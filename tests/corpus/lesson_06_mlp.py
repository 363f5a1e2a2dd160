"""Lesson 06 — the MLP on MNIST: wrong answers students plausibly write, and other correct ones."""

import torch
from torch import nn

from corpus import correct, wrong

LESSON = "06_mlp"
MINIMUM = (44, 14)  # wrong, correct

# ---------------------------------------------------------------- accuracy


@wrong("accuracy", "argmax over dim 0 (the samples)")
def accuracy(logits, target):
    return (logits.argmax(dim=0) == target).float().mean().item()


@wrong("accuracy", "returns the number of correct predictions")
def accuracy(logits, target):
    return (logits.argmax(dim=1) == target).sum().item()


@wrong("accuracy", "returns a tensor instead of a Python float")
def accuracy(logits, target):
    return (logits.argmax(dim=1) == target).float().mean()


@wrong("accuracy", "returns a percentage")
def accuracy(logits, target):
    return 100 * (logits.argmax(dim=1) == target).float().mean().item()


@wrong("accuracy", "integer division")
def accuracy(logits, target):
    return (logits.argmax(dim=1) == target).sum().item() // len(target)


@wrong("accuracy", "mean of a bool tensor")
def accuracy(logits, target):
    return (logits.argmax(dim=1) == target).mean().item()


@wrong("accuracy", "counts a sample right when its target's probability exceeds 0.5")
def accuracy(logits, target):
    p = logits.softmax(dim=1).gather(1, target[:, None]).squeeze(1)
    return (p > 0.5).float().mean().item()


@wrong("accuracy", "compares the highest logit's value, not its index, with the target")
def accuracy(logits, target):
    return (logits.max(dim=1).values == target).float().mean().item()


@correct("accuracy", "argmax over the last dim, count over numel")
def accuracy(logits, target):
    return (logits.argmax(-1) == target).sum().item() / target.numel()


@correct("accuracy", "max(...).indices and a Python division")
def accuracy(logits, target):
    return float((logits.max(dim=1).indices == target).sum()) / len(target)


@correct("accuracy", "topk(1) in float64")
def accuracy(logits, target):
    return torch.mean((logits.topk(1, dim=1).indices.squeeze(1) == target).double()).item()


@correct("accuracy", "plain Python over lists")
def accuracy(logits, target):
    hits = [int(p == t) for p, t in zip(logits.argmax(1).tolist(), target.tolist())]
    return sum(hits) / len(hits)


# ---------------------------------------------------------------- train_one_epoch


@wrong("train_one_epoch", "forgets zero_grad: gradients accumulate")
def train_one_epoch(model, batches, loss_fn, optimizer):
    model.train()
    total, correct, n = 0.0, 0, 0
    for x, y in batches:
        out = model(x)
        loss = loss_fn(out, y)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(y)
        correct += (out.argmax(1) == y).sum().item()
        n += len(y)
    return total / n, correct / n


@wrong("train_one_epoch", "forgets model.train()")
def train_one_epoch(model, batches, loss_fn, optimizer):
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


@wrong("train_one_epoch", "calls model.eval() (copied from evaluate)")
def train_one_epoch(model, batches, loss_fn, optimizer):
    model.eval()
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


@wrong("train_one_epoch", "returns the summed loss instead of the mean")
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
        correct += (out.argmax(1) == y).sum().item()
        n += len(y)
    return total, correct / n


@wrong("train_one_epoch", "mean of batch means with batches of unequal size")
def train_one_epoch(model, batches, loss_fn, optimizer):
    model.train()
    losses, correct, n = [], 0, 0
    for x, y in batches:
        optimizer.zero_grad()
        out = model(x)
        loss = loss_fn(out, y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        correct += (out.argmax(1) == y).sum().item()
        n += len(y)
    return sum(losses) / len(losses), correct / n


@wrong("train_one_epoch", "sum of batch means")
def train_one_epoch(model, batches, loss_fn, optimizer):
    model.train()
    total, correct, n = 0.0, 0, 0
    for x, y in batches:
        optimizer.zero_grad()
        out = model(x)
        loss = loss_fn(out, y)
        loss.backward()
        optimizer.step()
        total += loss.item()
        correct += (out.argmax(1) == y).sum().item()
        n += len(y)
    return total, correct / n


@wrong("train_one_epoch", "mean of batch accuracies with batches of unequal size")
def train_one_epoch(model, batches, loss_fn, optimizer):
    model.train()
    total, accs, n = 0.0, [], 0
    for x, y in batches:
        optimizer.zero_grad()
        out = model(x)
        loss = loss_fn(out, y)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(y)
        accs.append(accuracy(out, y))
        n += len(y)
    return total / n, sum(accs) / len(accs)


@wrong("train_one_epoch", "steps the optimizer once per epoch")
def train_one_epoch(model, batches, loss_fn, optimizer):
    model.train()
    optimizer.zero_grad()
    total, correct, n = 0.0, 0, 0
    for x, y in batches:
        out = model(x)
        loss = loss_fn(out, y)
        loss.backward()
        total += loss.item() * len(y)
        correct += (out.argmax(1) == y).sum().item()
        n += len(y)
    optimizer.step()
    return total / n, correct / n


@wrong("train_one_epoch", "zero_grad between backward and step")
def train_one_epoch(model, batches, loss_fn, optimizer):
    model.train()
    total, correct, n = 0.0, 0, 0
    for x, y in batches:
        out = model(x)
        loss = loss_fn(out, y)
        loss.backward()
        optimizer.zero_grad()
        optimizer.step()
        total += loss.item() * len(y)
        correct += (out.argmax(1) == y).sum().item()
        n += len(y)
    return total / n, correct / n


@wrong("train_one_epoch", "forgets loss.backward()")
def train_one_epoch(model, batches, loss_fn, optimizer):
    model.train()
    total, correct, n = 0.0, 0, 0
    for x, y in batches:
        optimizer.zero_grad()
        out = model(x)
        loss = loss_fn(out, y)
        optimizer.step()
        total += loss.item() * len(y)
        correct += (out.argmax(1) == y).sum().item()
        n += len(y)
    return total / n, correct / n


@wrong("train_one_epoch", "backward on the batch's summed loss (loss times batch size)")
def train_one_epoch(model, batches, loss_fn, optimizer):
    model.train()
    total, correct, n = 0.0, 0, 0
    for x, y in batches:
        optimizer.zero_grad()
        out = model(x)
        loss = loss_fn(out, y) * len(y)
        loss.backward()
        optimizer.step()
        total += loss.item()
        correct += (out.argmax(1) == y).sum().item()
        n += len(y)
    return total / n, correct / n


@wrong("train_one_epoch", "keeps the loss as a tensor (no .item())")
def train_one_epoch(model, batches, loss_fn, optimizer):
    model.train()
    total, correct, n = 0.0, 0, 0
    for x, y in batches:
        optimizer.zero_grad()
        out = model(x)
        loss = loss_fn(out, y)
        loss.backward()
        optimizer.step()
        total = total + loss * len(y)
        correct += (out.argmax(1) == y).sum().item()
        n += len(y)
    return total / n, correct / n


@wrong("train_one_epoch", "returns the last batch's loss")
def train_one_epoch(model, batches, loss_fn, optimizer):
    model.train()
    correct, n = 0, 0
    for x, y in batches:
        optimizer.zero_grad()
        out = model(x)
        loss = loss_fn(out, y)
        loss.backward()
        optimizer.step()
        correct += (out.argmax(1) == y).sum().item()
        n += len(y)
    return loss.item(), correct / n


@wrong("train_one_epoch", "calls the course's nnlab.train.train_epoch")
def train_one_epoch(model, batches, loss_fn, optimizer):
    import nnlab.train

    return nnlab.train.train_epoch(model, batches, loss_fn, optimizer)


@correct("train_one_epoch", "model.zero_grad(set_to_none=False), counts correct predictions itself")
def train_one_epoch(model, batches, loss_fn, optimizer):
    model.train()
    total, correct, n = 0.0, 0, 0
    for x, y in batches:
        model.zero_grad(set_to_none=False)
        out = model(x)
        loss = loss_fn(out, y)
        loss.backward()
        optimizer.step()
        total += loss.item() * x.shape[0]
        correct += int((out.argmax(dim=-1) == y).sum())
        n += x.shape[0]
    return total / n, correct / n


@correct("train_one_epoch", "accumulates detached tensors, .item() at the end")
def train_one_epoch(model, batches, loss_fn, optimizer):
    model.train()
    total, correct, n = torch.zeros(()), torch.zeros(()), 0
    for x, y in batches:
        optimizer.zero_grad(set_to_none=True)
        out = model(x)
        loss = loss_fn(out, y)
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            total += loss.detach() * len(y)
            correct += (out.argmax(1) == y).sum()
        n += len(y)
    return total.item() / n, correct.item() / n


@correct("train_one_epoch", "zero_grad after each step (the model arrives without gradients)")
def train_one_epoch(model, batches, loss_fn, optimizer):
    model.train()
    losses, sizes, hits = [], [], []
    for x, y in batches:
        out = model(x)
        loss = loss_fn(out, y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
        sizes.append(len(y))
        hits.append(accuracy(out, y) * len(y))
    n = sum(sizes)
    return sum(loss * size for loss, size in zip(losses, sizes)) / n, sum(hits) / n


# ---------------------------------------------------------------- evaluate


@wrong("evaluate", "forgets model.eval()")
def evaluate(model, batches, loss_fn):
    total, correct, n = 0.0, 0, 0
    with torch.no_grad():
        for x, y in batches:
            out = model(x)
            total += loss_fn(out, y).item() * len(y)
            correct += (out.argmax(1) == y).sum().item()
            n += len(y)
    return total / n, correct / n


@wrong("evaluate", "calls model.train() (copied from train_one_epoch)")
def evaluate(model, batches, loss_fn):
    model.train()
    total, correct, n = 0.0, 0, 0
    with torch.no_grad():
        for x, y in batches:
            out = model(x)
            total += loss_fn(out, y).item() * len(y)
            correct += (out.argmax(1) == y).sum().item()
            n += len(y)
    return total / n, correct / n


@wrong("evaluate", "forgets torch.no_grad()")
def evaluate(model, batches, loss_fn):
    model.eval()
    total, correct, n = 0.0, 0, 0
    for x, y in batches:
        out = model(x)
        total += loss_fn(out, y).item() * len(y)
        correct += (out.argmax(1) == y).sum().item()
        n += len(y)
    return total / n, correct / n


@wrong("evaluate", "mean of batch means with batches of unequal size")
def evaluate(model, batches, loss_fn):
    model.eval()
    losses, correct, n = [], 0, 0
    with torch.no_grad():
        for x, y in batches:
            out = model(x)
            losses.append(loss_fn(out, y).item())
            correct += (out.argmax(1) == y).sum().item()
            n += len(y)
    return sum(losses) / len(losses), correct / n


@wrong("evaluate", "loss summed over the batches, not averaged")
def evaluate(model, batches, loss_fn):
    model.eval()
    total, correct, n = 0.0, 0, 0
    with torch.no_grad():
        for x, y in batches:
            out = model(x)
            total += loss_fn(out, y).item() * len(y)
            correct += (out.argmax(1) == y).sum().item()
            n += len(y)
    return total, correct / n


@wrong("evaluate", "accuracy as a count")
def evaluate(model, batches, loss_fn):
    model.eval()
    total, correct, n = 0.0, 0, 0
    with torch.no_grad():
        for x, y in batches:
            out = model(x)
            total += loss_fn(out, y).item() * len(y)
            correct += (out.argmax(1) == y).sum().item()
            n += len(y)
    return total / n, correct


@wrong("evaluate", "returns tensors")
def evaluate(model, batches, loss_fn):
    model.eval()
    total, correct, n = 0.0, 0, 0
    with torch.no_grad():
        for x, y in batches:
            out = model(x)
            total += loss_fn(out, y) * len(y)
            correct += (out.argmax(1) == y).sum()
            n += len(y)
    return total / n, correct / n


@wrong("evaluate", "calls the course's nnlab.train.evaluate")
def evaluate(model, batches, loss_fn):
    from nnlab import train

    return train.evaluate(model, batches, loss_fn)


@correct("evaluate", "torch.inference_mode, and the training mode restored afterwards")
def evaluate(model, batches, loss_fn):
    was_training = model.training
    model.eval()
    total, correct, n = 0.0, 0, 0
    with torch.inference_mode():
        for x, y in batches:
            out = model(x)
            total += loss_fn(out, y).item() * len(y)
            correct += accuracy(out, y) * len(y)
            n += len(y)
    model.train(was_training)
    return total / n, correct / n


@correct("evaluate", "one loss over the concatenated outputs")
def evaluate(model, batches, loss_fn):
    model.eval()
    with torch.set_grad_enabled(False):
        outs, ys = zip(*[(model(x), y) for x, y in batches])
        out, y = torch.cat(outs), torch.cat(ys)
        return loss_fn(out, y).item(), accuracy(out, y)


@correct("evaluate", "model.train(False), torch.no_grad(), counts correct predictions itself")
def evaluate(model, batches, loss_fn):
    model.train(False)
    total, correct, n = 0.0, 0, 0
    for x, y in batches:
        with torch.no_grad():
            out = model(x)
            total += float(loss_fn(out, y)) * y.numel()
            correct += int(out.argmax(dim=1).eq(y).sum())
        n += y.numel()
    return total / n, correct / n


# ---------------------------------------------------------------- MLPClassifier


@wrong("MLPClassifier", "softmax at the end")
class MLPClassifier(nn.Module):
    def __init__(self, in_features=784, hidden=(256, 128), num_classes=10, activation=nn.ReLU):
        super().__init__()
        sizes = [in_features, *hidden, num_classes]
        layers = [nn.Flatten()]
        for i in range(len(sizes) - 1):
            if i:
                layers.append(activation())
            layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        layers.append(nn.Softmax(dim=1))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


@wrong("MLPClassifier", "log_softmax at the end")
class MLPClassifier(nn.Module):
    def __init__(self, in_features=784, hidden=(256, 128), num_classes=10, activation=nn.ReLU):
        super().__init__()
        sizes = [in_features, *hidden, num_classes]
        layers = [nn.Flatten()]
        for i in range(len(sizes) - 1):
            if i:
                layers.append(activation())
            layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return torch.log_softmax(self.net(x), dim=1)


@wrong("MLPClassifier", "does not flatten the images")
class MLPClassifier(nn.Module):
    def __init__(self, in_features=784, hidden=(256, 128), num_classes=10, activation=nn.ReLU):
        super().__init__()
        sizes = [in_features, *hidden, num_classes]
        layers = []
        for i in range(len(sizes) - 1):
            if i:
                layers.append(activation())
            layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


@wrong("MLPClassifier", "flattens to a hard-coded 784")
class MLPClassifier(nn.Module):
    def __init__(self, in_features=784, hidden=(256, 128), num_classes=10, activation=nn.ReLU):
        super().__init__()
        sizes = [in_features, *hidden, num_classes]
        layers = []
        for i in range(len(sizes) - 1):
            if i:
                layers.append(activation())
            layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x.view(-1, 784))


@wrong("MLPClassifier", "flattens the batch dimension too")
class MLPClassifier(nn.Module):
    def __init__(self, in_features=784, hidden=(256, 128), num_classes=10, activation=nn.ReLU):
        super().__init__()
        sizes = [in_features, *hidden, num_classes]
        layers = []
        for i in range(len(sizes) - 1):
            if i:
                layers.append(activation())
            layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x.flatten())


@wrong("MLPClassifier", "activation after the last layer too")
class MLPClassifier(nn.Module):
    def __init__(self, in_features=784, hidden=(256, 128), num_classes=10, activation=nn.ReLU):
        super().__init__()
        sizes = [in_features, *hidden, num_classes]
        layers = [nn.Flatten()]
        for i in range(len(sizes) - 1):
            layers += [nn.Linear(sizes[i], sizes[i + 1]), activation()]
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


@wrong("MLPClassifier", "activation on the input before the first layer")
class MLPClassifier(nn.Module):
    def __init__(self, in_features=784, hidden=(256, 128), num_classes=10, activation=nn.ReLU):
        super().__init__()
        sizes = [in_features, *hidden, num_classes]
        layers = [nn.Flatten()]
        for i in range(len(sizes) - 1):
            layers += [activation(), nn.Linear(sizes[i], sizes[i + 1])]
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


@wrong("MLPClassifier", "ignores the activation argument (always ReLU)")
class MLPClassifier(nn.Module):
    def __init__(self, in_features=784, hidden=(256, 128), num_classes=10, activation=nn.ReLU):
        super().__init__()
        sizes = [in_features, *hidden, num_classes]
        layers = [nn.Flatten()]
        for i in range(len(sizes) - 1):
            if i:
                layers.append(nn.ReLU())
            layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


@wrong("MLPClassifier", "ignores hidden: always two hidden layers of 256 and 128")
class MLPClassifier(nn.Module):
    def __init__(self, in_features=784, hidden=(256, 128), num_classes=10, activation=nn.ReLU):
        super().__init__()
        self.net = nn.Sequential(
            nn.Flatten(),
            nn.Linear(in_features, 256),
            activation(),
            nn.Linear(256, 128),
            activation(),
            nn.Linear(128, num_classes),
        )

    def forward(self, x):
        return self.net(x)


@wrong("MLPClassifier", "layers kept in a plain Python list")
class MLPClassifier(nn.Module):
    def __init__(self, in_features=784, hidden=(256, 128), num_classes=10, activation=nn.ReLU):
        super().__init__()
        sizes = [in_features, *hidden, num_classes]
        self.layers = [nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:])]
        self.act = activation()

    def forward(self, x):
        x = x.flatten(1)
        for i, layer in enumerate(self.layers):
            x = layer(self.act(x) if i else x)
        return x


@wrong("MLPClassifier", "builds it with the course's nnlab.mlp.make_mlp")
class MLPClassifier(nn.Module):
    def __init__(self, in_features=784, hidden=(256, 128), num_classes=10, activation=nn.ReLU):
        super().__init__()
        from nnlab import mlp

        self.net = mlp.make_mlp(in_features, hidden, num_classes, activation)

    def forward(self, x):
        return self.net(x)


@wrong("MLPClassifier", "every weight initialised to zero: all hidden units stay the same (fails to overfit)")
class MLPClassifier(nn.Module):
    def __init__(self, in_features=784, hidden=(256, 128), num_classes=10, activation=nn.ReLU):
        super().__init__()
        sizes = [in_features, *hidden, num_classes]
        layers = [nn.Flatten()]
        for i in range(len(sizes) - 1):
            if i:
                layers.append(activation())
            layers.append(nn.Linear(sizes[i], sizes[i + 1]))
            nn.init.zeros_(layers[-1].weight)
            nn.init.zeros_(layers[-1].bias)
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


@wrong("MLPClassifier", "forward under torch.no_grad(), copied from evaluate: nothing can train")
class MLPClassifier(nn.Module):
    def __init__(self, in_features=784, hidden=(256, 128), num_classes=10, activation=nn.ReLU):
        super().__init__()
        sizes = [in_features, *hidden, num_classes]
        layers = [nn.Flatten()]
        for i in range(len(sizes) - 1):
            if i:
                layers.append(activation())
            layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        with torch.no_grad():
            return self.net(x)


@wrong("MLPClassifier", "output detached (.detach()) to return plain scores: nothing can train")
class MLPClassifier(nn.Module):
    def __init__(self, in_features=784, hidden=(256, 128), num_classes=10, activation=nn.ReLU):
        super().__init__()
        sizes = [in_features, *hidden, num_classes]
        layers = [nn.Flatten()]
        for i in range(len(sizes) - 1):
            if i:
                layers.append(activation())
            layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x).detach()


@correct("MLPClassifier", "Kaiming-normal weights and zero biases instead of PyTorch's default initialisation")
class MLPClassifier(nn.Module):
    def __init__(self, in_features=784, hidden=(256, 128), num_classes=10, activation=nn.ReLU):
        super().__init__()
        sizes = [in_features, *hidden, num_classes]
        layers = [nn.Flatten()]
        for i in range(len(sizes) - 1):
            if i:
                layers.append(activation())
            layers.append(nn.Linear(sizes[i], sizes[i + 1]))
            nn.init.kaiming_normal_(layers[-1].weight, nonlinearity="relu")
            nn.init.zeros_(layers[-1].bias)
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


@correct("MLPClassifier", "nn.ModuleList and x.flatten(1)")
class MLPClassifier(nn.Module):
    def __init__(self, in_features=784, hidden=(256, 128), num_classes=10, activation=nn.ReLU):
        super().__init__()
        sizes = [in_features, *hidden, num_classes]
        self.linears = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.acts = nn.ModuleList(activation() for _ in hidden)

    def forward(self, x):
        x = x.flatten(1)
        for linear, act in zip(self.linears[:-1], self.acts):
            x = act(linear(x))
        return self.linears[-1](x)


@correct("MLPClassifier", "reshape(len(x), -1) and layers added one by one")
class MLPClassifier(nn.Module):
    def __init__(self, in_features=784, hidden=(256, 128), num_classes=10, activation=nn.ReLU):
        super().__init__()
        self.body = nn.Sequential()
        width = in_features
        for k, h in enumerate(hidden):
            self.body.add_module(f"fc{k}", nn.Linear(width, h))
            self.body.add_module(f"act{k}", activation())
            width = h
        self.head = nn.Linear(width, num_classes)

    def forward(self, x):
        return self.head(self.body(x.reshape(len(x), -1)))


@correct("MLPClassifier", "nn.Sequential of nn.Flatten and interleaved layers")
class MLPClassifier(nn.Module):
    def __init__(self, in_features=784, hidden=(256, 128), num_classes=10, activation=nn.ReLU):
        super().__init__()
        sizes = (in_features, *hidden)
        blocks = [m for a, b in zip(sizes[:-1], sizes[1:]) for m in (nn.Linear(a, b), activation())]
        self.model = nn.Sequential(nn.Flatten(start_dim=1), *blocks, nn.Linear(sizes[-1], num_classes))

    def forward(self, images):
        return self.model(images)
