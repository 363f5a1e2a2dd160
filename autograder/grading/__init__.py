"""Instructor grading that student code cannot fool or stop (``python -m autograder grade``).

The modules, one concept each, are listed in ``autograder/README.md`` ("For maintainers"), with the design
and the threat model.
"""
