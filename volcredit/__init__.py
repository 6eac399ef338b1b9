"""volcredit core: the domain model, the legal rules, the store, validation and import, and the CLI.

The core knows nothing of the web, the templates or the search engine (DESIGN.md, Layout).
"""

__version__ = "0.1.0"
