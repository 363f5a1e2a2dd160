"""Pytest set-up shared by tests/ and the nbval run over solutions/.

Fast mode (NNLAB_FAST=1) is what grading and CI use: lessons train on small
subsets for few epochs. Kernels started by nbval inherit this environment.
"""

import os

os.environ.setdefault("NNLAB_FAST", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
