"""The athanor benchmark: the raw DBAPI driver vs athanor vs SQLAlchemy, side by side.

Run it with ``python -m bench`` (see BENCHMARKS.md). Not part of the installed package nor
of the test suite.
"""
