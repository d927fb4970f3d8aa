"""What the tests, browser tests and benchmarks share: servers, peers, databases, rows and site files.

Imported as ``tests.support.<module>`` (pytest puts the repository root on the path).
"""
