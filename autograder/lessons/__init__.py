"""Lesson-specific grading code: one module per lesson topic (ban lists, references, diagnoses, checks).

A grade cell reads as a spec, a comment and a call or two into its lesson's module here, e.g.
``from autograder.lessons import neurons`` then ``neurons.check_collapse_linear_stack(collapse_linear_stack)``.
Nothing here is within a student's reach during a graded call: the judge forbids calling it from an answer.
"""
