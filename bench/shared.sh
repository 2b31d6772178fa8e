# Shell helpers shared by bench/hello.sh and bench/protocols.sh (sourced, not run): installing a
# missing tool, CPU pinning, a free port and a median. Callers `set -euo pipefail` and define
# log/die first.

need() {  # need <command> <debian package>: installs the package (apt) if the command is missing
  command -v "$1" >/dev/null 2>&1 && return
  log "installing $2 (apt)"
  local sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$2"; } >&2 \
    || die "could not install $2"
}

# Sets PIN_SERVER and PIN_CLIENT (prefixes for the server's and the load generator's command:
# `taskset -c 0` and `taskset -c 1`, empty on a single CPU) and PINNING (a phrase for reports).
if [ "$(nproc)" -ge 2 ]; then
  command -v taskset >/dev/null 2>&1 || die "taskset (util-linux) is required for CPU pinning"
  PIN_SERVER=(taskset -c 0); PIN_CLIENT=(taskset -c 1)
  PINNING="server pinned to CPU 0, load generator to CPU 1"
else
  # Pinning needs two CPUs; on one CPU run unpinned rather than not at all.
  log "WARNING: fewer than 2 CPUs, running unpinned (numbers will be noisy)"
  PIN_SERVER=(); PIN_CLIENT=()
  PINNING="unpinned"
fi

# A port nobody listens on, below Linux's ephemeral range (32768+) so the load generator's own
# client sockets cannot collide with it.
free_port() {
  local p
  for _ in $(seq 100); do
    p=$((20000 + RANDOM % 12000))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
  die "no free port found"
}

# The median of the numbers given as arguments.
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
