# The two commands a new machine needs: `make demo` and `make test`.
.PHONY: demo test setup bench bench-hello clean

setup:
	bash ci/setup.sh

demo:
	TARGETS=313t bash ci/setup.sh
	.venv-313t/bin/python -m fastcore run examples.hello:app --host 127.0.0.1 --port 8000

test:
	bash ci/test.sh

bench:
	bash bench/run.sh

bench-hello:
	bash bench/hello.sh

clean:
	rm -rf target .venv-313t .venv-gil
