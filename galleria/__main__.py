"""The `galleria` command: the project's manage.py (`galleria demo`, `galleria migrate`, …)."""

from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    from django.core.management import execute_from_command_line

    execute_from_command_line([sys.argv[0] if sys.argv else "galleria", *sys.argv[1:]])


if __name__ == "__main__":
    main()
