# The two commands a newcomer needs; everything else is a helper they call.
.PHONY: demo test

demo:  ## Deploy Airflow on a local kind cluster and prove it with a DAG run (needs Docker; builds offline what it cannot download).
	scripts/demo.sh

test:  ## Set up .venv, then run yamllint, ansible-lint, ansible-test sanity, unit and integration tests.
	scripts/test.sh
