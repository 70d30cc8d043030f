"""The storage tests use the shared database fixtures of :mod:`tests.support.databases`."""
