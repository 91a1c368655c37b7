"""The bad-input matrix: every public entry point against careless input, written down.

:mod:`tests.bad_input.outcomes` says what an outcome may be and checks one;
``cases_*.py`` list the cases, one per (entry point, input); ``test_matrix.py`` runs
each as a test; :mod:`tests.bad_input.table` renders the same data as the table in
``docs/bad_input.rst``, so that the docs and the tests cannot drift apart.
"""
