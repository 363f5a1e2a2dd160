"""Lesson 01 — global state is left as found (issue 12, part 6): a model handed to a function keeps its
train/eval mode unless switching it is the exercise."""

from corpus import correct, wrong

LESSON = "01_neurons"
MINIMUM = (1, 1)  # wrong, correct


@wrong("count_parameters", "switches the caller's model to evaluation mode 'to be safe' and leaves it there")
def count_parameters(model):
    model.eval()
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


@correct("count_parameters", "switches to evaluation mode and back to the mode it found")
def count_parameters(model):
    was = model.training
    model.eval()
    total = sum(p.numel() for p in model.parameters() if p.requires_grad)
    model.train(was)
    return total
