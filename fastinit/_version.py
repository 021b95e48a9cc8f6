"""The version, read by setup (pyproject.toml) and the package alike."""
__version__ = "0.1.0"
