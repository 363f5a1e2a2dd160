"""Instructor grading that student code cannot fool or stop (``python -m autograder grade``).

Modules: :mod:`cli` (the command, the pool of grading processes, merge), :mod:`discover` (submission
folders and zips), :mod:`clean` (restore a submission against its source), :mod:`grader` (one notebook:
the verdict in this process), :mod:`remote` (workers and proxies, grader side), :mod:`worker` (the
sandboxed side), :mod:`sandbox` (OS confinement), :mod:`publish` (CSV, gradebook), :mod:`feedback`
(HTML), :mod:`bench` (throughput). The design and the threat model: ``autograder/README.md``.
"""
