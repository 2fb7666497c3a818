#!/usr/bin/env bash
# A three-node Docker Swarm on one machine, for trying Baton's `swarm` runtime and for its tests.
#
# Each "node" is a network namespace running its own dockerd (own --data-root, --exec-root,
# --pidfile and socket), its own containerd and its own hostname, joined by a bridge on the
# host (10.77.0.0/24: the host is .1, node N is .1N). Node 1 is the manager, the others workers;
# node N carries the labels zone=zN and role=edge (node 1) or role=app (the others). The system
# dockerd (/var/run/docker.sock) is never touched, except to `docker save` the images `load`
# copies into the nodes (Swarm never pulls here).
#
#   scripts/local-swarm.sh up              # make (or finish making) the cluster; idempotent
#   scripts/local-swarm.sh load IMAGE...   # copy images from the system engine into every node
#   scripts/local-swarm.sh status          # the nodes as the manager sees them
#   scripts/local-swarm.sh env             # DOCKER_HOST of the manager, to eval
#   scripts/local-swarm.sh stop N          # kill node N at once: its dockerd, containerd, containers
#   scripts/local-swarm.sh start N         # start node N's engine again (it rejoins by itself)
#   scripts/local-swarm.sh down            # remove everything `up` made
#
# Needs root, iproute2, iptables, dockerd and containerd (Debian: apt-get install docker.io
# iproute2 iptables). BATON_SWARM_NODES sets the number of nodes (default 3).
set -euo pipefail

NODES=${BATON_SWARM_NODES:-3}
STATE=/var/lib/baton-swarm
RUN=/run/baton-swarm
BRIDGE=baton-swarm0
PREFIX=10.77.0
HOST_ADDR=$PREFIX.1
CONTROLLERS=(cpu cpuacct cpuset memory devices freezer blkio pids)

ns() { echo "baton-swarm-node$1"; }
addr() { echo "$PREFIX.$((10 + $1))"; }
sock() { echo "$RUN/node$1/docker.sock"; }
node_docker() {
  local n=$1
  shift
  docker -H "unix://$(sock "$n")" "$@"
}
# Everything of node N (its daemons, their shims, its containers) lives in this cgroup: stopping
# the node is killing exactly what is in it.
cgroup() { echo "baton-swarm-node$1"; }
say() { printf 'local-swarm: %s\n' "$*" >&2; }
die() {
  say "$*"
  exit 1
}

require() {
  [ "$(id -u)" = 0 ] || die "must run as root (network namespaces, a bridge, dockerd)"
  local missing=()
  for tool in ip iptables dockerd containerd docker unshare; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
  done
  [ ${#missing[@]} = 0 ] || die "missing ${missing[*]} (Debian: apt-get install -y iproute2 iptables docker.io)"
}

engine_alive() {
  local pid
  pid=$(cat "$RUN/node$1/docker.pid" 2>/dev/null) || return 1
  kill -0 "$pid" 2>/dev/null && node_docker "$1" version >/dev/null 2>&1
}

up_network() {
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link add "$BRIDGE" type bridge
  fi
  ip addr show dev "$BRIDGE" | grep -q "inet $HOST_ADDR/" || ip addr add "$HOST_ADDR/24" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  # With the system dockerd running, bridged traffic crosses its FORWARD chain (policy DROP).
  if iptables -nL DOCKER-USER >/dev/null 2>&1; then
    iptables -C DOCKER-USER -i "$BRIDGE" -o "$BRIDGE" -j ACCEPT 2>/dev/null ||
      iptables -I DOCKER-USER -i "$BRIDGE" -o "$BRIDGE" -j ACCEPT
  fi
  for n in $(seq 1 "$NODES"); do
    local name
    name=$(ns "$n")
    ip netns list | grep -qw "$name" || ip netns add "$name"
    if ! ip link show "bsw$n" >/dev/null 2>&1; then
      ip link add "bsw$n" type veth peer name eth0 netns "$name"
      ip link set "bsw$n" master "$BRIDGE" up
    fi
    ip netns exec "$name" sh -c "
      ip link set lo up
      ip addr show dev eth0 | grep -q 'inet $(addr "$n")/' || ip addr add $(addr "$n")/24 dev eth0
      ip link set eth0 up
      ip route show default | grep -q . || ip route add default via $HOST_ADDR"
  done
}

start_engine() {
  local n=$1
  engine_alive "$n" && return 0
  mkdir -p "$STATE/node$n" "$RUN/node$n"
  for c in "${CONTROLLERS[@]}"; do mkdir -p "/sys/fs/cgroup/$c/$(cgroup "$n")"; done
  # A cpuset cgroup takes no process until it has CPUs and memory nodes: its parent's.
  local cpuset=/sys/fs/cgroup/cpuset
  cat "$cpuset/cpuset.cpus" >"$cpuset/$(cgroup "$n")/cpuset.cpus"
  cat "$cpuset/cpuset.mems" >"$cpuset/$(cgroup "$n")/cpuset.mems"
  # `ip netns exec` remounts /sys, hiding the cgroup hierarchies: mount them again inside (a
  # private mount namespace, so nothing leaks to the host), move this shell into the node's
  # cgroup so that containerd and its shims are there too, then run dockerd. Its own hostname
  # (a UTS namespace) tells the nodes apart in Swarm.
  DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1 setsid ip netns exec "$(ns "$n")" unshare --uts sh -c "
    set -e
    hostname baton-node$n
    mount -t tmpfs cgroup /sys/fs/cgroup
    for c in ${CONTROLLERS[*]}; do
      mkdir -p /sys/fs/cgroup/\$c
      mount -t cgroup -o \$c cgroup /sys/fs/cgroup/\$c
      echo \$\$ > /sys/fs/cgroup/\$c/$(cgroup "$n")/cgroup.procs
    done
    mkdir -p /sys/fs/cgroup/systemd
    mount -t cgroup -o none,name=systemd cgroup /sys/fs/cgroup/systemd
    # A containerd of the system must not be shared: dockerd then starts its own.
    if [ -S /run/containerd/containerd.sock ]; then mount -t tmpfs none /run/containerd; fi
    exec dockerd \
      --data-root $STATE/node$n \
      --exec-root $RUN/node$n/exec \
      --pidfile $RUN/node$n/docker.pid \
      --host unix://$(sock "$n") \
      --cgroup-parent /$(cgroup "$n") \
      --log-level warn
  " >>"$STATE/node$n/dockerd.log" 2>&1 </dev/null &
  for _ in $(seq 1 150); do
    engine_alive "$n" && return 0
    sleep 0.2
  done
  die "node $n's dockerd did not answer within 30 s; see $STATE/node$n/dockerd.log"
}

swarm_state() { node_docker "$1" info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null || echo unknown; }

up_swarm() {
  if [ "$(swarm_state 1)" != active ]; then
    node_docker 1 swarm init --advertise-addr "$(addr 1)" --listen-addr "$(addr 1):2377" >/dev/null
  fi
  local token
  token=$(node_docker 1 swarm join-token -q worker)
  for n in $(seq 2 "$NODES"); do
    [ "$(swarm_state "$n")" = active ] && continue
    node_docker "$n" swarm join --token "$token" --advertise-addr "$(addr "$n")" \
      --listen-addr "$(addr "$n"):2377" "$(addr 1):2377" >/dev/null
  done
  for n in $(seq 1 "$NODES"); do
    local id
    id=$(node_docker "$n" info --format '{{.Swarm.NodeID}}')
    local role=app
    [ "$n" = 1 ] && role=edge
    node_docker 1 node update --label-add "zone=z$n" --label-add "role=$role" "$id" >/dev/null
  done
}

cmd_up() {
  require
  up_network
  for n in $(seq 1 "$NODES"); do start_engine "$n"; done
  up_swarm
  say "up: $NODES nodes; manager: DOCKER_HOST=unix://$(sock 1); nodes at $(addr 1)…$(addr "$NODES"), host at $HOST_ADDR"
}

cmd_load() {
  [ $# -gt 0 ] || die "load: name the images to copy (they must be on the system engine)"
  for image in "$@"; do
    local id
    id=$(docker image inspect --format '{{.Id}}' "$image" 2>/dev/null) || die "load: $image is not on the system engine"
    for n in $(seq 1 "$NODES"); do
      engine_alive "$n" || continue
      # By tag and id: already there, nothing to copy.
      [ "$(node_docker "$n" image inspect --format '{{.Id}}' "$image" 2>/dev/null)" = "$id" ] && continue
      docker save "$image" | node_docker "$n" load -q >/dev/null
    done
  done
}

# Kills node N at once, as a power loss would: everything in its cgroup, frozen first so that
# nothing forks away meanwhile. The namespace stays, so its address refuses connections.
cmd_stop() {
  local n=${1:?stop: which node (1-$NODES)?}
  local freezer=/sys/fs/cgroup/freezer/$(cgroup "$n")
  [ -d "$freezer" ] || return 0
  echo FROZEN >"$freezer/freezer.state"
  local pids
  pids=$(find "$freezer" -name cgroup.procs -exec cat {} + | sort -u)
  [ -z "$pids" ] || kill -9 $pids 2>/dev/null || true
  echo THAWED >"$freezer/freezer.state"
  for _ in $(seq 1 100); do
    [ -z "$(find "$freezer" -name cgroup.procs -exec cat {} +)" ] && break
    sleep 0.1
  done
  rm -f "$RUN/node$n/docker.pid" "$(sock "$n")"
  # Empty container cgroups left behind, deepest first.
  for c in "${CONTROLLERS[@]}"; do
    find "/sys/fs/cgroup/$c/$(cgroup "$n")" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null || true
  done
}

cmd_start() {
  require
  local n=${1:?start: which node (1-$NODES)?}
  start_engine "$n"
}

cmd_status() {
  for n in $(seq 1 "$NODES"); do
    if engine_alive "$n"; then echo "node$n $(addr "$n") engine up, swarm $(swarm_state "$n")"; else echo "node$n $(addr "$n") engine down"; fi
  done
  if engine_alive 1; then node_docker 1 node ls; fi
}

cmd_down() {
  require
  for n in $(seq 1 "$NODES"); do
    cmd_stop "$n"
    for c in "${CONTROLLERS[@]}"; do rmdir "/sys/fs/cgroup/$c/$(cgroup "$n")" 2>/dev/null || true; done
    ip netns del "$(ns "$n")" 2>/dev/null || true
  done
  ip link del "$BRIDGE" 2>/dev/null || true
  while iptables -D DOCKER-USER -i "$BRIDGE" -o "$BRIDGE" -j ACCEPT 2>/dev/null; do :; done
  rm -rf "$STATE" "$RUN"
  say "down"
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  env) echo "export DOCKER_HOST=unix://$(sock 1)" ;;
  load) shift && cmd_load "$@" ;;
  stop) cmd_stop "${2:-}" ;;
  start) cmd_start "${2:-}" ;;
  *)
    sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
    [ -n "${1:-}" ] && [ "$1" != --help ] && [ "$1" != -h ] && exit 2
    ;;
esac
