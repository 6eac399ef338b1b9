"""The public site generator: store -> static site (DESIGN.md)."""
