"""The portal: a thin Starlette app over the store (DESIGN.md)."""
