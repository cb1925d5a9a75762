"""Writes of the imports area: `jobs` (upload, mapping, dry run, real run), `process` (the row engine)."""

from .jobs import (
    import_dry_run,
    import_dry_run_request,
    import_run,
    import_set_mapping,
    import_start,
    import_upload,
    job_path,
)

__all__ = [
    "import_dry_run",
    "import_dry_run_request",
    "import_run",
    "import_set_mapping",
    "import_start",
    "import_upload",
    "job_path",
]
