#!/usr/bin/env bash
# shellcheck disable=SC2317  # functions called through traps and wait_for
# tests/slurm/run.sh: end-to-end test of deploy/slurm on a real, one-node Slurm
# cluster started here and torn down afterwards.
#
# It installs Debian's slurm-wlm and munge if missing (root only), starts munged
# (unless one already answers), slurmctld and slurmd on a throwaway slurm.conf,
# submits an 8-shard array of scenarios/ec2-two-zones.json through
# deploy/slurm/submit.sh, and checks that result.json is byte for byte the JSON
# of a single-process run, and that a merge missing a part fails naming it.
# Every daemon it started is stopped by process id on exit; every wait is bounded.
#
# Prints "slurm: 1 passed, 0 failed" (exit 0) or "slurm: 0 passed, 1 failed"
# (exit 1). Without root, or with the packages missing and no root, it fails
# unless NINES_SKIP_SLURM=1, which makes it print SKIPPED and exit 0.
# Environment: NINES (a nines binary; default: cargo build --release),
# NINES_SLURM_KEEP=1 (keep the temporary directory).
set -uo pipefail

export PATH="$PATH:/usr/sbin:/sbin"
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo" || exit 1

SCENARIO=scenarios/ec2-two-zones.json
TRIALS=40000
SHARDS=8
STARTUP_WAIT=60   # seconds for the daemons and the node to come up
JOBS_WAIT=300     # seconds for the jobs to end

t0=$SECONDS
tmp=""
started_pids=()   # daemons started here, stopped on exit
job_ids=()        # jobs submitted here, cancelled on exit if still there
policy_rc_created=0

log() { echo "slurm: $*"; }

dump_logs() {
    [[ -n $tmp && -d $tmp ]] || return 0
    local f
    for f in "$tmp"/log/*.log "$tmp"/out/slurm-*.out "$tmp"/out-missing/slurm-*.out; do
        [[ -s $f ]] || continue
        echo "----- ${f#"$tmp"/} (last 40 lines) -----"
        tail -n 40 "$f"
    done
    echo "-----"
}

fail() {
    log "FAIL: $*"
    if command -v squeue >/dev/null && [[ -n ${SLURM_CONF:-} ]]; then
        echo "----- squeue / scontrol show job -----"
        timeout 10 squeue -a 2>&1
        local id
        for id in "${job_ids[@]}"; do timeout 10 scontrol -o show job "$id" 2>&1; done
        echo "----- sinfo -----"
        timeout 10 sinfo -N -l 2>&1
    fi
    dump_logs
    log "0 passed, 1 failed"
    exit 1
}

skip_or_fail() {
    if [[ ${NINES_SKIP_SLURM:-} == 1 ]]; then
        log "SKIPPED: $* (NINES_SKIP_SLURM=1)"
        exit 0
    fi
    log "FAIL: $* (set NINES_SKIP_SLURM=1 to skip this test)"
    log "0 passed, 1 failed"
    exit 1
}

# Processes carrying our marker in their environment: the daemons, and (through
# sbatch's environment) the job scripts and what they run.
marked_pids() {
    local f p
    for f in /proc/[0-9]*/environ; do
        p=${f#/proc/}
        p=${p%/environ}
        [[ $p == "$$" || $p == "$BASHPID" ]] && continue
        grep -qaF "NINES_SLURM_TEST_ID=$tmp" "$f" 2>/dev/null && echo "$p"
    done
}

stop_pid() {   # stop_pid PID NAME: TERM, up to 10 s, then KILL
    local pid=$1 name=$2 i
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    echo "slurm: $name (pid $pid) ignored SIGTERM; killing it" >&2
    kill -KILL "$pid" 2>/dev/null
    sleep 0.2
}

cleanup() {
    local status=$? i entry pid name leftovers
    trap - EXIT INT TERM
    if ((${#job_ids[@]} > 0)) && [[ -n ${SLURM_CONF:-} ]]; then
        timeout 10 scancel "${job_ids[@]}" >/dev/null 2>&1
    fi
    # Newest first: slurmd, slurmctld, then munged.
    for ((i = ${#started_pids[@]} - 1; i >= 0; i--)); do
        entry=${started_pids[i]}
        pid=${entry%%:*}
        name=${entry#*:}
        stop_pid "$pid" "$name"
    done
    if [[ -n $tmp ]]; then
        # slurmstepd and job processes, should any outlive their daemons.
        leftovers=$(marked_pids)
        if [[ -n $leftovers ]]; then
            echo "slurm: stopping leftover processes: $leftovers" >&2
            # shellcheck disable=SC2086
            kill -TERM $leftovers 2>/dev/null
            sleep 1
            leftovers=$(marked_pids)
            # shellcheck disable=SC2086
            [[ -z $leftovers ]] || kill -KILL $leftovers 2>/dev/null
        fi
    fi
    if ((policy_rc_created)); then
        rm -f /usr/sbin/policy-rc.d
    fi
    if [[ -n $tmp && -d $tmp ]]; then
        if [[ ${NINES_SLURM_KEEP:-} == 1 || $status -ne 0 ]]; then
            echo "slurm: kept $tmp" >&2
        else
            rm -rf "$tmp"
        fi
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

wait_for() {   # wait_for SECONDS DESCRIPTION COMMAND...: poll every 0.5 s
    local limit=$1 what=$2 deadline=$((SECONDS + $1))
    shift 2
    until "$@" >/dev/null 2>&1; do
        ((SECONDS < deadline)) || fail "timed out after ${limit} s waiting for $what"
        sleep 0.5
    done
}

# ---- (a) packages --------------------------------------------------------

missing_commands() {
    local c absent=()
    for c in slurmctld slurmd munged munge unmunge sbatch squeue scontrol sinfo scancel; do
        command -v "$c" >/dev/null || absent+=("$c")
    done
    echo "${absent[*]}"
}

missing=$(missing_commands)
if ((EUID != 0)); then
    if [[ -n $missing ]]; then
        skip_or_fail "Slurm is not installed (missing: $missing) and installing slurm-wlm and munge needs root"
    fi
    skip_or_fail "starting munged, slurmctld and slurmd for the test needs root"
fi

# One test at a time on this machine: they share apt, munged and the CPUs.
{ exec 9>>/run/lock/nines-slurm-test.lock; } 2>/dev/null || exec 9>>/tmp/nines-slurm-test.lock
flock -w 600 9 || fail "another tests/slurm/run.sh held its lock for 10 minutes"

if [[ -n $missing ]]; then
    command -v apt-get >/dev/null || skip_or_fail "Slurm is not installed and there is no apt-get to install it"
    log "installing slurm-wlm and munge with apt-get (missing: $missing)"
    # Keep the packages' maintainer scripts from starting the daemons themselves.
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        policy_rc_created=1
    fi
    apt_install() {
        DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -q \
            --no-install-recommends -o DPkg::Lock::Timeout=120 slurm-wlm munge
    }
    if ! apt_install >/tmp/nines-slurm-apt.$$.log 2>&1; then
        log "apt-get install failed; running apt-get update and trying again"
        timeout 300 apt-get update -q >>/tmp/nines-slurm-apt.$$.log 2>&1
        apt_install >>/tmp/nines-slurm-apt.$$.log 2>&1 || {
            tail -n 30 /tmp/nines-slurm-apt.$$.log
            rm -f /tmp/nines-slurm-apt.$$.log
            fail "could not install slurm-wlm and munge"
        }
    fi
    rm -f /tmp/nines-slurm-apt.$$.log
    if ((policy_rc_created)); then
        rm -f /usr/sbin/policy-rc.d
        policy_rc_created=0
    fi
    missing=$(missing_commands)
    [[ -z $missing ]] || fail "still missing after installing: $missing"
    log "installed in $((SECONDS - t0)) s"
fi

tmp=$(mktemp -d /tmp/nines-slurm.XXXXXX) || fail "mktemp failed"
chmod 755 "$tmp"
mkdir -p "$tmp"/{etc,state,spool,log,run,out}
marker=(env "NINES_SLURM_TEST_ID=$tmp")   # marks our daemons and jobs (see marked_pids)

# ---- nines -----------------------------------------------------------------

if [[ -z ${NINES:-} ]]; then
    log "building nines (cargo build --release --locked)"
    cargo build --release --locked >"$tmp/cargo-build.log" 2>&1 || {
        tail -n 40 "$tmp/cargo-build.log"
        fail "cargo build --release --locked failed"
    }
    NINES=$repo/target/release/nines
fi
[[ -x $NINES ]] || fail "no nines binary at $NINES"

# ---- (b) munge -------------------------------------------------------------

munge_works() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }

if munge_works; then
    log "using the munged already running"
else
    getent passwd munge >/dev/null || fail "no munge user (is the munge package installed?)"
    install -d -o munge -g munge -m 0755 /run/munge
    install -d -o munge -g munge -m 0700 /var/log/munge /etc/munge
    install -d -o munge -g munge -m 0711 /var/lib/munge
    if [[ ! -s /etc/munge/munge.key ]]; then
        log "creating /etc/munge/munge.key"
        if command -v mungekey >/dev/null; then
            setpriv --reuid=munge --regid=munge --init-groups mungekey --create \
                --keyfile=/etc/munge/munge.key || fail "mungekey failed"
        else
            dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
        fi
    fi
    chown munge:munge /etc/munge/munge.key
    chmod 0400 /etc/munge/munge.key
    # --force: start even if a dead munged left its socket behind.
    # --foreground: so that $! is munged itself.
    "${marker[@]}" setpriv --reuid=munge --regid=munge --init-groups \
        munged --foreground --force \
        >"$tmp/log/munged.log" 2>&1 </dev/null &
    started_pids+=("$!:munged")
    wait_for 20 "munged to answer" munge_works
    log "started munged (pid ${started_pids[-1]%%:*})"
fi

# ---- (c) slurm.conf and the daemons --------------------------------------

port_free() { ! ss -Htan "( sport = :$1 )" 2>/dev/null | grep -q .; }
pick_port() {
    local p i
    for ((i = 0; i < 100; i++)); do
        p=$((20000 + RANDOM % 40000))
        if port_free "$p" && [[ $p != "${1:-}" ]]; then echo "$p"; return 0; fi
    done
    return 1
}
ctld_port=$(pick_port) || fail "no free port"
slurmd_port=$(pick_port "$ctld_port") || fail "no free port"

cpus=$(nproc)
mem_mb=$(awk '/^MemTotal:/ { print int($2 / 1024 / 2) }' /proc/meminfo)
((mem_mb > 4096)) && mem_mb=4096
((mem_mb < 100)) && mem_mb=100

export SLURM_CONF="$tmp/etc/slurm.conf"
cat >"$SLURM_CONF" <<EOF
# Throwaway one-node cluster of tests/slurm/run.sh
ClusterName=nines-test
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/run/slurmctld.pid
SlurmdPidFile=$tmp/run/slurmd.pid
SlurmctldLogFile=$tmp/log/slurmctld.log
SlurmdLogFile=$tmp/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/builtin
# Start jobs as soon as others end, not up to 3 s later (the default delay).
SchedulerParameters=batch_sched_delay=0
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmdParameters=config_overrides
MpiDefault=none
ReturnToService=2
MinJobAge=600
KillWait=5
InactiveLimit=0
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=test Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF

"${marker[@]}" slurmctld -D -f "$SLURM_CONF" >"$tmp/log/slurmctld.stderr.log" 2>&1 </dev/null &
started_pids+=("$!:slurmctld")
wait_for "$STARTUP_WAIT" "slurmctld to answer" scontrol ping
"${marker[@]}" slurmd -D -f "$SLURM_CONF" -N localhost >"$tmp/log/slurmd.stderr.log" 2>&1 </dev/null &
started_pids+=("$!:slurmd")

# ---- (d) the node is idle -------------------------------------------------

node_idle() { [[ $(sinfo -h -n localhost -o %T 2>/dev/null) == idle ]]; }
wait_for "$STARTUP_WAIT" "the node to be idle in sinfo" node_idle
log "cluster up, $((SECONDS - t0)) s after the start (slurmctld port $ctld_port, slurmd port $slurmd_port)"

# ---- (e) the run ------------------------------------------------------------

job_state() {   # every JobState of the job (one per array task), sorted
    scontrol -o show job "$1" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | cut -d= -f2 | sort -u
}
jobs_ended() {   # jobs_ended ID...: true once none is pending, running or completing
    local id state
    for id in "$@"; do
        state=$(job_state "$id")
        [[ -n $state ]] || return 1
        grep -qvE '^(COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|BOOT_FAIL|DEADLINE|PREEMPTED)$' <<<"$state" && return 1
    done
    [[ -z $(squeue -h -j "$(IFS=,; echo "$*")" -o %i 2>/dev/null) ]]
}

out=$tmp/out
t_submit=$SECONDS
ids=$("${marker[@]}" SCENARIO="$SCENARIO" TRIALS="$TRIALS" SEED=1 SHARDS="$SHARDS" \
    OUT_DIR="$out" NINES="$NINES" bash deploy/slurm/submit.sh --parsable-ids) ||
    fail "deploy/slurm/submit.sh failed"
read -r array_id merge_id <<<"$ids"
[[ $array_id =~ ^[0-9]+$ && $merge_id =~ ^[0-9]+$ ]] || fail "submit.sh printed '$ids', not two job ids"
job_ids+=("$array_id" "$merge_id")
log "submitted array job $array_id and merge job $merge_id"
wait_for "$JOBS_WAIT" "jobs $array_id and $merge_id to end" jobs_ended "$array_id" "$merge_id"
log "jobs ended in $((SECONDS - t_submit)) s"

states=$(job_state "$array_id" | tr '\n' ' ')
[[ $states == "COMPLETED " ]] || fail "array job $array_id ended as: $states"
[[ $(job_state "$merge_id") == COMPLETED ]] || fail "merge job $merge_id ended as $(job_state "$merge_id")"
for ((i = 0; i < SHARDS; i++)); do
    [[ -s $out/part-$i.json ]] || fail "no part file $out/part-$i.json"
done
[[ -s $out/result.json ]] || fail "the merge job wrote no $out/result.json"

"$NINES" run "$SCENARIO" --trials "$TRIALS" --seed 1 --json "$tmp/single.json" --quiet ||
    fail "the single-process run failed"
cmp "$out/result.json" "$tmp/single.json" ||
    fail "result.json of the Slurm run differs from the single-process run's JSON"
log "result.json of $SHARDS Slurm shards is byte-identical to the single-process run"

# The merge once more without part-3.json (shard 4 of 8), directly and as a
# Slurm job: both must fail and name what is missing.
mkdir -p "$tmp/out-missing"
for ((i = 0; i < SHARDS; i++)); do
    ((i == 3)) || cp "$out/part-$i.json" "$tmp/out-missing/"
done
"$NINES" merge "$tmp"/out-missing/part-*.json --json "$tmp/out-missing/direct.json" --quiet \
    2>"$tmp/merge-missing.err"
status=$?
((status == 2)) || fail "nines merge without part-3.json exited $status, not 2"
grep -q "missing shard(s) 4 of $SHARDS" "$tmp/merge-missing.err" ||
    fail "nines merge without part-3.json did not name shard 4: $(cat "$tmp/merge-missing.err")"
[[ ! -e $tmp/out-missing/direct.json ]] || fail "nines merge wrote a result despite a missing part"

mid=$("${marker[@]}" OUT_DIR="$tmp/out-missing" SHARDS="$SHARDS" NINES="$NINES" \
    sbatch --parsable --export=ALL --output="$tmp/out-missing/slurm-%j-merge.out" \
    deploy/slurm/nines-merge.sbatch) || fail "sbatch of nines-merge.sbatch failed"
mid=${mid%%;*}
job_ids+=("$mid")
wait_for "$JOBS_WAIT" "merge job $mid to end" jobs_ended "$mid"
[[ $(job_state "$mid") == FAILED ]] || fail "merge job $mid without part-3.json ended as $(job_state "$mid"), not FAILED"
scontrol -o show job "$mid" | grep -q 'ExitCode=2:0' || fail "merge job $mid did not exit with 2"
merge_out=$(cat "$tmp"/out-missing/slurm-"$mid"-merge.out 2>/dev/null)
grep -q "part-3.json" <<<"$merge_out" || fail "merge job $mid did not name part-3.json"
grep -q "missing shard(s) 4 of $SHARDS" <<<"$merge_out" || fail "merge job $mid did not name shard 4"
[[ ! -e $tmp/out-missing/result.json ]] || fail "merge job $mid wrote a result despite a missing part"
log "a merge without part-3.json fails naming it (shard 4 of $SHARDS)"

log "PASS in $((SECONDS - t0)) s"
log "1 passed, 0 failed"
exit 0
