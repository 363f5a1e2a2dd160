"""Pytest set-up shared by tests/ and the nbval run over solutions/.

Fast mode (NNLAB_FAST=1) is what grading and CI use: lessons train on small
subsets for few epochs. Kernels started by nbval inherit this environment.
"""

import os

os.environ.setdefault("NNLAB_FAST", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
# pytest-xdist runs 2 workers on 2 cores: one thread each (and each kernel they start) avoids oversubscription
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
