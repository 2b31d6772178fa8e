#!/usr/bin/env bash
# fastcore Task (stepped from Rust) vs asyncio's C Task (stepped by call_soon on the worker loop).
#   bash bench/task_impl.sh            N=2000 tasks x K=10 awaits, median of 5, server on CPU 0
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv-313t/bin/python}"
N="${N:-2000}" K="${K:-10}" REPS="${REPS:-5}" PORT="${PORT:-18931}"
taskset -c 0 "$PYTHON" -m fastcore run bench.apps.task_impl_app:app --port "$PORT" --threads 1 >/tmp/task_impl.log 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/tasks/fastcore/1/1" >/dev/null && break; sleep 0.2; done
"$PYTHON" - "$PORT" "$N" "$K" "$REPS" <<'PY'
import json, statistics, sys, urllib.request
port, n, k, reps = sys.argv[1], *map(int, sys.argv[2:])
def run(impl):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/tasks/{impl}/{n}/{k}") as r:
        return json.load(r)["per_task_step_us"]
times = {"fastcore": [], "asyncio": []}
for _ in range(reps):  # interleaved
    for impl in times:
        times[impl].append(run(impl))
f, a = statistics.median(times["fastcore"]), statistics.median(times["asyncio"])
print(f"{n} tasks x {k + 1} steps, median of {reps}: fastcore Task {f:.2f} us/step, "
      f"asyncio C Task on the worker loop {a:.2f} us/step; asyncio/fastcore = {a / f:.2f}x")
PY
