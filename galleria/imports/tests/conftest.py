from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _private_import_dir(settings, tmp_path):
    settings.GALLERIA_IMPORT_DIR = str(tmp_path / "imports")
