# The two commands a new machine needs: `make demo` and `make test`.
.PHONY: demo test setup bench bench-hello wheels wheels-test clean

setup:
	bash ci/setup.sh

# The notes demo (examples/notes/): the page at /, the API docs at /docs, key `demo-key`.
demo:
	TARGETS=313t bash ci/setup.sh
	.venv-313t/bin/python -m fastcore run examples.notes.app:app --host 127.0.0.1 --port 8000

test:
	bash ci/test.sh

# Wheels for CPython 3.11, 3.12, 3.13, 3.13t and an sdist in dist/; then install and serve each.
wheels:
	bash ci/wheels.sh

wheels-test: wheels
	python3 ci/wheels_test.py

bench:
	bash bench/run.sh

bench-hello:
	bash bench/hello.sh

clean:
	rm -rf target dist .venv-313t .venv-gil
