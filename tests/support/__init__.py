"""Real parts for the tests, started on loopback: Docker Engine, registry, base image, Airflow, helm.

Nothing here is a test double. Each part is started once per pytest session by the fixtures in
``tests/integration/conftest.py`` and stopped when the session ends.
"""
