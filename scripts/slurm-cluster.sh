#!/usr/bin/env bash
# A real Slurm cluster on this host for the Slurm bridge's tests, benchmark and quick start:
# one slurmctld and N slurmd (Debian's build runs several on one host, one port each),
# GPUs of several types declared on ordinary files (AutoDetect=off), nodes declaring more
# CPUs and memory than the host has (SlurmdParameters=config_overrides).
#
#   scripts/slurm-cluster.sh install              Debian's slurm-wlm and munge, when missing
#   scripts/slurm-cluster.sh start DIR [N] [PORT] [SHAPES]
#                                                 config and state under DIR, N nodes (4),
#                                                 slurmctld on PORT (16817), slurmd on PORT+1…;
#                                                 SHAPES: a file of 'COUNT CPUS MEMORY_MIB GPUS
#                                                 TYPE [SHARDS]' lines (N is then their total;
#                                                 SHARDS: gres/shard per GPU, none if absent)
#   scripts/slurm-cluster.sh stop DIR             stops what start started
#
# Then `export SLURM_CONF=DIR/slurm.conf` for sinfo, squeue, sbatch and scontrol.
# Partitions (every node in each):
#   gpu      the bridge's queue (State=DOWN: jobs queue there with their real priority and
#            Slurm never starts them; `sluice slurm` moves each one it places to gpu-run,
#            pinned to the node it chose);
#   gpu-run  where the bridge's jobs run (hidden);
#   slurm    Slurm's own scheduler, for comparison.
# Node shapes cycle through 8 × a100 (64 CPUs, 512 GiB), 4 × v100 (32 CPUs, 256 GiB),
# 4 × t4 (32 CPUs, 128 GiB) and no GPU (16 CPUs, 64 GiB). The a100 and v100 GPUs also
# carry 100 gres/shard each (GPU shares: `--gres=shard:a100:30`); the t4 none.
set -euo pipefail

die() { echo "slurm-cluster: $*" >&2; exit 1; }

install() {
  local missing=()
  for p in slurm-wlm munge; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && { echo "slurm-cluster: slurm-wlm and munge present"; return; }
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

node_line() {  # node_line INDEX PORT DIR: the NodeName line and, on stdout 3, its gres.conf lines
  local i=$1 port=$2 dir=$3 name="n$1" cpus mem gpus type shards
  if [ -n "${shape_of[$i]:-}" ]; then
    read -r cpus mem gpus type shards <<< "${shape_of[$i]}"
  else
    case $(( (i - 1) % 4 )) in
      0) cpus=64 mem=524288 gpus=8 type=a100 shards=100 ;;
      1) cpus=32 mem=262144 gpus=4 type=v100 shards=100 ;;
      2) cpus=32 mem=131072 gpus=4 type=t4 shards=0 ;;
      3) cpus=16 mem=65536 gpus=0 type=gpu shards=0 ;;
    esac
  fi
  local line="NodeName=$name NodeHostname=localhost Port=$port CPUs=$cpus RealMemory=$mem"
  if [ "$gpus" -gt 0 ]; then
    line+=" Gres=gpu:$type:$gpus"
    echo "NodeName=$name Name=gpu Type=$type File=$dir/dev/$name-gpu[0-$((gpus - 1))]" >&3
    if [ "${shards:-0}" -gt 0 ]; then
      line+=",shard:$((gpus * shards))"
      # One line a device: each GPU gets its own shards (a count over several files is
      # split by Slurm as it likes).
      for g in $(seq 0 $((gpus - 1))); do
        echo "NodeName=$name Name=shard Count=$shards File=$dir/dev/$name-gpu$g" >&3
      done
    fi
  fi
  echo "$line"
}

declare -A shape_of=()

start() {
  local dir=$1 n=${2:-4} port=${3:-16817} shapes=${4:-}
  if [ -n "$shapes" ]; then
    [ -r "$shapes" ] || die "cannot read the shapes file $shapes"
    n=0
    local line count cpus mem gpus type shards
    while read -r line; do
      line=${line%%#*}  # comments
      shards=0
      read -r count cpus mem gpus type shards <<< "$line"
      [ -z "${count:-}" ] && continue
      [[ "$count$cpus$mem$gpus${shards:-0}" =~ ^[0-9]+$ ]] ||
        die "$shapes: expected 'COUNT CPUS MEMORY_MIB GPUS TYPE [SHARDS]', found '$line'"
      [ "$gpus" -le 8 ] || die "$shapes: at most 8 GPUs a node"
      for _ in $(seq 1 "$count"); do n=$((n + 1)); shape_of[$n]="$cpus $mem $gpus ${type:-gpu} ${shards:-0}"; done
    done < "$shapes"
  fi
  [ "$n" -ge 1 ] && [ "$n" -le 256 ] || die "N must be 1..256, not '$n'"
  command -v slurmctld > /dev/null || die "slurmctld not found: run '$0 install' first"
  mkdir -p "$dir"/{state,spool,log,run,dev}
  dir=$(cd "$dir" && pwd)
  [ -e "$dir/run/slurmctld.pid" ] && kill -0 "$(cat "$dir/run/slurmctld.pid")" 2>/dev/null &&
    die "a cluster already runs from $dir (stop it first)"
  for i in $(seq 1 "$n"); do for g in $(seq 0 7); do : > "$dir/dev/n$i-gpu$g"; done; done
  {
    cat <<EOF
ClusterName=sluicetest
SlurmctldHost=localhost
SlurmctldPort=$port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool/%n
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd-%n.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd-%n.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
PriorityType=priority/multifactor
PriorityWeightAge=1000
PriorityWeightJobSize=0
GresTypes=gpu,shard
SlurmdParameters=config_overrides
ReturnToService=2
MpiDefault=none
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
SchedulerParameters=bf_interval=1,sched_min_interval=100000
MinJobAge=30
EOF
    : > "$dir/gres.conf.new"
    echo "AutoDetect=off" >> "$dir/gres.conf.new"
    for i in $(seq 1 "$n"); do node_line "$i" $((port + i)) "$dir" 3>> "$dir/gres.conf.new"; done
    echo "PartitionName=gpu Nodes=ALL Default=YES MaxTime=INFINITE State=DOWN"
    echo "PartitionName=gpu-run Nodes=ALL MaxTime=INFINITE State=UP Hidden=YES"
    echo "PartitionName=slurm Nodes=ALL MaxTime=INFINITE State=UP"
  } > "$dir/slurm.conf"
  mv "$dir/gres.conf.new" "$dir/gres.conf"
  # munged refuses root without --force; one munged serves every cluster on the host.
  if ! pgrep -x munged > /dev/null; then
    mkdir -p /run/munge
    chown munge:munge /run/munge 2> /dev/null || true
    [ -s /etc/munge/munge.key ] || die "no /etc/munge/munge.key (install munge first)"
    munged --force 2> "$dir/log/munged.err" || die "munged did not start: $(cat "$dir/log/munged.err")"
  fi
  # From here on a failure stops what did start, so nothing is left holding the ports.
  failed() { stop "$dir" > /dev/null 2>&1 || true; die "$@"; }
  slurmctld -f "$dir/slurm.conf" || failed "slurmctld did not start: see $dir/log/slurmctld.log"
  for i in $(seq 1 "$n"); do
    slurmd -N "n$i" -f "$dir/slurm.conf" || failed "slurmd n$i did not start: see $dir/log/slurmd-n$i.log"
  done
  # Ready when every node answers.
  local waited=0
  while true; do
    local up
    up=$(SLURM_CONF="$dir/slurm.conf" sinfo -h -p slurm -t idle -o "%D" 2> /dev/null | head -n1)
    [ "${up:-0}" = "$n" ] && break
    waited=$((waited + 1))
    [ $waited -le 60 ] || failed "after 30 s, ${up:-0} of $n nodes idle: see $dir/log"
    sleep 0.5
  done
  echo "slurm-cluster: $n nodes up; export SLURM_CONF=$dir/slurm.conf"
}

stop() {
  local dir=$1
  [ -d "$dir/run" ] || die "no cluster state in $dir"
  for pid_file in "$dir"/run/slurmd-*.pid "$dir/run/slurmctld.pid"; do
    [ -e "$pid_file" ] || continue
    local pid
    pid=$(cat "$pid_file")
    kill "$pid" 2> /dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2> /dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2> /dev/null || true
    rm -f "$pid_file"
  done
  echo "slurm-cluster: stopped"
}

case "${1:-}" in
  install) install ;;
  start) [ $# -ge 2 ] || die "usage: $0 start DIR [N] [PORT] [SHAPES]"; start "$2" "${3:-4}" "${4:-16817}" "${5:-}" ;;
  stop) [ $# -eq 2 ] || die "usage: $0 stop DIR"; stop "$2" ;;
  *) die "usage: $0 install | start DIR [N] [PORT] [SHAPES] | stop DIR" ;;
esac
