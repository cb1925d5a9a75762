"""Writes of the imports area: `jobs` (upload, mapping, dry run, real run), `process` (the row engine), `erasure`."""

from .erasure import member_erase_in_tx
from .jobs import (
    import_dry_run,
    import_dry_run_request,
    import_files_purge,
    import_run,
    import_set_mapping,
    import_start,
    import_upload,
    job_path,
)

__all__ = [
    "import_dry_run",
    "import_dry_run_request",
    "import_files_purge",
    "import_run",
    "import_set_mapping",
    "import_start",
    "import_upload",
    "job_path",
    "member_erase_in_tx",
]
