#!/usr/bin/env bash
# A three-node RabbitMQ cluster on this machine, beside its own broker (which is left alone):
# nodes rabbit2..rabbit4@localhost on AMQP ports 5673-5675, management 15673-15675,
# distribution 25673-25675, each with its own config, data and log folders under
# $DAVIS_CLUSTER_DIR. Used by the cluster chaos test (test-chaos/cluster.test.ts).
#
#   .ci/rabbitmq-cluster.sh up      build (or rebuild) the cluster and wait until it is formed
#   .ci/rabbitmq-cluster.sh down    stop the nodes and remove their folders
#   .ci/rabbitmq-cluster.sh start N start node N (2..4) again after a kill, with its data
#   .ci/rabbitmq-cluster.sh pid N   print the OS pid of node N
set -euo pipefail

DIR="${DAVIS_CLUSTER_DIR:-/var/tmp/davis-rabbitmq-cluster}"
NODES=(2 3 4)
SUDO=""
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then SUDO="sudo"; fi
log() { printf '[cluster] %s\n' "$*"; }
name() { echo "rabbit$1@localhost"; }
ctl() { local i=$1; shift; $SUDO rabbitmqctl -q -n "$(name "$i")" "$@"; }

prepare() {
  local i=$1 d="$DIR/D$1"
  mkdir -p "$d/mnesia" "$d/log"
  echo '[rabbitmq_management].' > "$d/enabled_plugins"
  printf 'listeners.tcp.local = 127.0.0.1:567%d\nmanagement.tcp.ip = 127.0.0.1\nmanagement.tcp.port = 1567%d\n' $((i + 1)) $((i + 1)) > "$d/rabbitmq.conf"
  $SUDO chown -R rabbitmq:rabbitmq "$d"
}

start_node() {
  local i=$1 d="$DIR/D$1"
  $SUDO env RABBITMQ_NODENAME="$(name "$i")" RABBITMQ_CONFIG_FILE="$d/rabbitmq.conf" RABBITMQ_DIST_PORT=2567$((i + 1)) \
    RABBITMQ_MNESIA_BASE="$d/mnesia" RABBITMQ_LOG_BASE="$d/log" RABBITMQ_ENABLED_PLUGINS_FILE="$d/enabled_plugins" \
    rabbitmq-server -detached
  # -detached returns before the node registers with epmd; await_startup fails until it has.
  for _ in $(seq 1 90); do
    ctl "$i" await_startup --timeout 90 >/dev/null 2>&1 && return 0
    sleep 1
  done
  log "node $(name "$i") did not start; see $d/log"
  return 1
}

pid_of() { cat "$DIR/D$1/mnesia/$(name "$1").pid"; }

stop_all() {
  for i in "${NODES[@]}"; do
    if [ -f "$DIR/D$i/mnesia/$(name "$i").pid" ]; then
      local p; p=$(pid_of "$i")
      kill -CONT "$p" 2>/dev/null || true
      ctl "$i" stop >/dev/null 2>&1 || kill -9 "$p" 2>/dev/null || true
    fi
  done
}

case "${1:-}" in
  up)
    stop_all
    rm -rf "$DIR"
    for i in "${NODES[@]}"; do prepare "$i"; start_node "$i"; done
    for i in 3 4; do
      ctl "$i" stop_app >/dev/null
      ctl "$i" join_cluster "$(name 2)" >/dev/null
      ctl "$i" start_app >/dev/null
    done
    ctl 2 await_online_nodes 3 --timeout 60 >/dev/null 2>&1 || true
    log "up: $(ctl 2 cluster_status --formatter json | node -e 'let s="";process.stdin.on("data",(d)=>s+=d).on("end",()=>console.log(JSON.parse(s).running_nodes.join(" ")))')"
    ;;
  down)
    stop_all
    rm -rf "$DIR"
    log "down"
    ;;
  start)
    start_node "${2:?node number 2..4}"
    ;;
  pid)
    pid_of "${2:?node number 2..4}"
    ;;
  *)
    echo "usage: $0 up|down|start N|pid N" >&2
    exit 2
    ;;
esac
