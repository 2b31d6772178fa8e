"""The benchmark suite that bench/harness.py runs, one module per concept:

  config      where things are, which CPUs servers and load generators use, the log line
  procs       processes we start (Proc) and what /proc says about them and the CPUs
  servers     the servers (ServerDef, SERVERS), starting one and waiting until it answers
  scenarios   the scenarios: request, expected answer, connections
  load        load generation: wrk and the fixed-rate loadgen, pinned; parsing wrk's output
  run         one run: results.json (bookkeeping, metadata, --merge), the fan-out upstream
  checks, matrix, sweep, scaling, memory    the parts, each `run(suite)`

Standard library only: runs on any Python 3.11+. bench/ecosystem.py, api.py and ws.py reuse it.
"""
