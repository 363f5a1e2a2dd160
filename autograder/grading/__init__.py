"""Instructor grading that student code cannot fool or stop (``python -m autograder grade``).

The modules, one concept each, are listed in ``autograder/README.md`` ("For maintainers"), with the design
and the threat model.
"""

import sys

# nbformat imports jsonschema, which compiles an optional IRI grammar (``rfc3987_syntax``) at import: about a
# CPU-second in every grading process. Neither nbformat's schemas nor nbgrader check formats, so notebooks
# validate the same without it.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
