"""Test helpers shipped with the package (local Hub double, ...)."""
