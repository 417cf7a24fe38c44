#!/usr/bin/env bash
# A real single-node Slurm cluster on this machine, from Debian's slurm-wlm and munge.
#
#   tools/slurm_local.sh up       start munged, slurmctld and slurmd (idempotent)
#   tools/slurm_local.sh down     stop exactly the daemons `up` started, by their recorded pids
#   tools/slurm_local.sh status   say which of them run
#   tools/slurm_local.sh env      print the `export SLURM_CONF=...` line
#
# Everything (slurm.conf, munge socket, pid files, logs, state, spool) lives in one state dir,
# ${VLMT_SLURM_DIR:-/tmp/vlmt-slurm}, so several clusters (a user's and a test's) can coexist when
# they use different ports: VLMT_SLURM_CTLD_PORT (default 6817) and VLMT_SLURM_D_PORT (6818).
# Clusters on one host should also number their jobs apart (VLMT_SLURM_FIRST_JOB_ID, default 1):
# Open MPI names its shared-memory segments after the PMIx namespace "slurm.pmix.<job>.<step>", so
# two clusters' ranks of equal job ids running at once share segments and crash.
# The munge daemon is our own, bound to a socket in the state dir, so a system munged (if any) is
# neither needed nor touched; it uses the system key /etc/munge/munge.key, created if missing.
# Must run as root (slurmd launches tasks as the submitting user; SlurmUser=root).
set -euo pipefail

STATE_DIR="${VLMT_SLURM_DIR:-/tmp/vlmt-slurm}"
CTLD_PORT="${VLMT_SLURM_CTLD_PORT:-6817}"
SLURMD_PORT="${VLMT_SLURM_D_PORT:-6818}"
CONF="$STATE_DIR/slurm.conf"
MUNGE_DIR="$STATE_DIR/munge"
MUNGE_SOCKET="$MUNGE_DIR/munge.socket.2"
MUNGE_KEY=/etc/munge/munge.key
WAIT_IDLE_S="${VLMT_SLURM_WAIT_S:-60}"
FIRST_JOB_ID="${VLMT_SLURM_FIRST_JOB_ID:-1}"

say() { echo "slurm_local: $*"; }
die() { echo "slurm_local: error: $*" >&2; exit 1; }

# --- pid bookkeeping: a daemon counts as ours only if its pid file names a live process whose
# command name is the expected one (a recycled pid of some other program is never signalled).
# /proc/PID/comm rather than exe: Debian installs the daemons as alternatives (slurmctld-wlm).
pid_of() {  # name → pid of our running daemon, or nothing
  local name=$1 file pid comm
  case $name in
    munged) file="$MUNGE_DIR/munged.pid" ;;
    *) file="$STATE_DIR/run/$name.pid" ;;
  esac
  [ -s "$file" ] || return 0
  pid=$(tr -dc '0-9' <"$file")
  [ -n "$pid" ] && [ -d "/proc/$pid" ] || return 0
  comm=$(cat "/proc/$pid/comm" 2>/dev/null || true)
  [ "$comm" = "$name" ] && echo "$pid"
  return 0
}

running() { [ -n "$(pid_of "$1")" ]; }

wait_gone() {  # pid seconds
  local pid=$1 left=$(( $2 * 10 ))
  while [ -d "/proc/$pid" ] && [ "$left" -gt 0 ]; do sleep 0.1; left=$((left - 1)); done
  [ ! -d "/proc/$pid" ]
}

# --- munge -------------------------------------------------------------------------------------
ensure_munge_key() {
  if [ ! -s "$MUNGE_KEY" ]; then
    say "creating munge key $MUNGE_KEY"
    install -d -o munge -g munge -m 0700 "$(dirname "$MUNGE_KEY")"
    if command -v mungekey >/dev/null; then
      mungekey --create --keyfile="$MUNGE_KEY" --force
    else
      dd if=/dev/urandom of="$MUNGE_KEY" bs=1 count=1024 status=none
    fi
  fi
  # munged refuses a key that is readable by others or not owned by the user it runs as.
  chown munge:munge "$MUNGE_KEY"
  chmod 0400 "$MUNGE_KEY"
}

start_munge() {
  if running munged; then say "munged already running (pid $(pid_of munged))"; return; fi
  ensure_munge_key
  # munged runs as the key's owner; its directory must be owned by it and traversable by all
  # (clients connect to the socket), and must not be writable by others.
  install -d -o munge -g munge -m 0755 "$MUNGE_DIR"
  runuser -u munge -- test -w "$MUNGE_DIR" \
    || die "user munge cannot reach $MUNGE_DIR:" \
           "every parent directory must be traversable by others (chmod o+x)"
  rm -f "$MUNGE_SOCKET" "$MUNGE_SOCKET.lock"
  runuser -u munge -- munged --socket="$MUNGE_SOCKET" --pid-file="$MUNGE_DIR/munged.pid" \
    --log-file="$MUNGE_DIR/munged.log" --seed-file="$MUNGE_DIR/munged.seed" \
    || die "munged failed to start; see $MUNGE_DIR/munged.log:" \
           "$(tail -n 2 "$MUNGE_DIR/munged.log" 2>/dev/null)"
  munge -n -S "$MUNGE_SOCKET" | unmunge -S "$MUNGE_SOCKET" >/dev/null \
    || die "munged started but a munge/unmunge round trip failed"
  say "munged started (pid $(pid_of munged))"
}

# --- slurm.conf --------------------------------------------------------------------------------
pick_mpi_default() {  # asks srun which MPI plugins this Slurm has (needs $CONF to exist)
  local list
  list=$(SLURM_CONF="$CONF" srun --mpi=list 2>&1 || true)
  if grep -qw pmix <<<"$list"; then echo pmix
  elif grep -qw pmi2 <<<"$list"; then
    echo "slurm_local: note: srun --mpi=list has no pmix; using MpiDefault=pmi2" >&2; echo pmi2
  else
    echo "slurm_local: note: srun --mpi=list has neither pmix nor pmi2; using MpiDefault=none" >&2
    echo none
  fi
}

write_conf() {
  local host cpus mem_mb mpi
  host=$(hostname -s)
  cpus=$(nproc --all)  # --all: plain nproc honours OMP_NUM_THREADS
  # Leave 5% of memory to the operating system; Slurm drains a node that reports less than this.
  mem_mb=$(awk '/^MemTotal:/ {printf "%d", $2 / 1024 * 0.95}' /proc/meminfo)
  install -d -m 0755 "$STATE_DIR/run" "$STATE_DIR/log" "$STATE_DIR/state" "$STATE_DIR/spool"
  cat >"$CONF" <<EOF
# Written by tools/slurm_local.sh: a single-node cluster for development and tests.
ClusterName=vlmt
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$MUNGE_SOCKET
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
ReturnToService=2
SlurmdParameters=config_overrides
StateSaveLocation=$STATE_DIR/state
SlurmdSpoolDir=$STATE_DIR/spool
SlurmctldPidFile=$STATE_DIR/run/slurmctld.pid
SlurmdPidFile=$STATE_DIR/run/slurmd.pid
SlurmctldLogFile=$STATE_DIR/log/slurmctld.log
SlurmdLogFile=$STATE_DIR/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# Generous timeouts: the node is shared with builds, and training steps checkpoint on USR1.
SlurmctldTimeout=300
SlurmdTimeout=300
MessageTimeout=60
InactiveLimit=0
KillWait=30
MinJobAge=300
Waittime=0
FirstJobId=$FIRST_JOB_ID
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
EOF
  mpi=$(pick_mpi_default)
  sed -i "s/^MpiDefault=none$/MpiDefault=$mpi/" "$CONF"
  # Slurm reads mpi.conf next to slurm.conf; keep PMIx's per-step files in the state dir too.
  install -d -m 0755 "$STATE_DIR/pmix"
  echo "PMIxCliTmpDirBase=$STATE_DIR/pmix" >"$STATE_DIR/mpi.conf"
  say "wrote $CONF (node $host, CPUs=$cpus, RealMemory=${mem_mb}M, MpiDefault=$mpi)"
}

# --- slurm daemons -----------------------------------------------------------------------------
start_daemon() {  # name
  local name=$1
  if running "$name"; then say "$name already running (pid $(pid_of "$name"))"; return; fi
  rm -f "$STATE_DIR/run/$name.pid"
  SLURM_CONF="$CONF" "/usr/sbin/$name" -f "$CONF" \
    || die "$name failed to start: $(tail -n 5 "$STATE_DIR/log/$name.log" 2>/dev/null)"
  local left=100
  while ! running "$name" && [ "$left" -gt 0 ]; do sleep 0.1; left=$((left - 1)); done
  running "$name" || die "$name exited right after starting; last log lines:
$(tail -n 15 "$STATE_DIR/log/$name.log" 2>/dev/null)"
  say "$name started (pid $(pid_of "$name"))"
}

node_state() { SLURM_CONF="$CONF" sinfo -h -N -o '%T' 2>/dev/null | head -n 1; }

wait_idle() {
  local deadline=$((SECONDS + WAIT_IDLE_S)) state=""
  while [ $SECONDS -lt $deadline ]; do
    state=$(node_state)
    case $state in
      idle|mixed|allocated|completing) say "node $(hostname -s) is $state"; return 0 ;;
      *drain*|down*|fail*)
        # ReturnToService=2 lets a healthy slurmd bring it back; help a stale DOWN state along.
        SLURM_CONF="$CONF" scontrol update nodename="$(hostname -s)" state=resume \
          >/dev/null 2>&1 || true ;;
    esac
    sleep 1
  done
  die "node did not become idle within ${WAIT_IDLE_S}s (state: '${state:-no answer}');
slurmd log: $(tail -n 10 "$STATE_DIR/log/slurmd.log" 2>/dev/null)
slurmctld log: $(tail -n 10 "$STATE_DIR/log/slurmctld.log" 2>/dev/null)"
}

print_env() { echo "export SLURM_CONF=$CONF"; }

cmd_up() {
  [ "$(id -u)" -eq 0 ] || die "must run as root (munged is started as user munge, slurmd as root)"
  command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null \
    || die "slurm-wlm and munge are not installed (run tools/install_deps.sh)"
  install -d -m 0755 "$STATE_DIR"
  chmod 0755 "$STATE_DIR"  # munge (a different user) must traverse it to reach its socket
  start_munge
  # Rewriting the config under running daemons would make them disagree with their clients.
  if running slurmctld || running slurmd; then say "daemons running; keeping $CONF"
  else write_conf; fi
  start_daemon slurmctld
  start_daemon slurmd
  wait_idle
  echo "slurm_local: cluster is up; in your shell run:"
  print_env
}

stop_daemon() {  # name
  local name=$1 pid
  pid=$(pid_of "$name")
  if [ -z "$pid" ]; then say "$name not running"; return; fi
  kill -TERM "$pid"
  if ! wait_gone "$pid" 20; then
    say "$name (pid $pid) ignored TERM for 20 s; sending KILL"
    kill -KILL "$pid" 2>/dev/null || true
    wait_gone "$pid" 5 || true
  fi
  say "$name stopped (pid $pid)"
}

cmd_down() {
  # Order: the node daemon first (it ends its job steps), then the controller, then munge.
  stop_daemon slurmd
  stop_daemon slurmctld
  stop_daemon munged
}

cmd_status() {
  local any=1 name
  for name in munged slurmctld slurmd; do
    if running "$name"; then echo "$name: running (pid $(pid_of "$name"))"; any=0
    else echo "$name: stopped"; fi
  done
  if running slurmctld; then echo "node: $(node_state)"; print_env; fi
  return $any
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  env) print_env ;;
  *) echo "usage: $0 up|down|status|env   (state dir: \${VLMT_SLURM_DIR:-/tmp/vlmt-slurm})" >&2
     exit 2 ;;
esac
