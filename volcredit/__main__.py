"""Allow ``python -m volcredit``."""

from volcredit.cli import main

raise SystemExit(main())
