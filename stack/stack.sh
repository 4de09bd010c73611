#!/usr/bin/env bash
# The local stack: Apache Kafka (KRaft, one node), ClickHouse, and the Stripe emulators
# (localstripe, stateful; stripe-mock, Stripe's official request validator), installed from
# the package registries and started without Docker or systemd. Data, logs and pid files
# live under $GPUMETER_STACK_DIR (default: <repo>/.local, git-ignored).
#
#   stack.sh up     [kafka|clickhouse|localstripe|stripe-mock|chromium|chdb|cluster ...]   install if missing, start, wait until answering
#                   (cluster: ZooKeeper and three more ClickHouse servers, the cluster `gpumeter`;
#                   not started unless named)
#   stack.sh down   [kafka|clickhouse ...]   stop what this script started (by recorded pid)
#   stack.sh status [kafka|clickhouse ...]
#   stack.sh install                         install only (apt package, Maven jars)
#
# `up` is idempotent: a service whose recorded pid is alive and whose port answers is left alone.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STACK_DIR="${GPUMETER_STACK_DIR:-$ROOT/.local}"
KAFKA_VERSION_DIR="$STACK_DIR/kafka/lib"
KAFKA_PORT="${GPUMETER_KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${GPUMETER_KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_SASL_SSL_PORT="${GPUMETER_KAFKA_SASL_SSL_PORT:-9094}"
CH_HTTP_PORT="${GPUMETER_CLICKHOUSE_HTTP_PORT:-8123}"
LOCALSTRIPE_PORT="${GPUMETER_LOCALSTRIPE_PORT:-8420}"
STRIPE_MOCK_PORT="${GPUMETER_STRIPE_MOCK_PORT:-12111}"
STRIPE_MOCK_VERSION="v0.203.0"
# chromium is no daemon: `up` installs it (Debian's package) for the browser tests, `down` has nothing to stop.
# chdb is no daemon either: the current ClickHouse engine in a Python venv, for the differential lane.
ALL_SERVICES=(kafka clickhouse localstripe stripe-mock chromium chdb)
# The local ClickHouse cluster (issue 14): ZooKeeper (from the Kafka jars' own zookeeper-3.8.x)
# and three clickhouse-server processes of the same Debian package — shard 01 with replicas ch1
# and ch2, shard 02 with ch3. name:shard:http:tcp:interserver
ZK_PORT="${GPUMETER_ZOOKEEPER_PORT:-2181}"
CLUSTER_NODES=("ch1:01:8131:9131:9231" "ch2:01:8132:9132:9232" "ch3:02:8133:9133:9233")

log() { printf '[stack] %s\n' "$*" >&2; }
die() { printf '[stack] error: %s\n' "$*" >&2; exit 1; }

pid_file() { echo "$STACK_DIR/$1/$1.pid"; }
pid_alive() {
  local f; f="$(pid_file "$1")"
  [[ -f "$f" ]] && kill -0 "$(cat "$f")" 2>/dev/null
}
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# ---------------------------------------------------------------- install
apt_updated=0
apt_install() {
  if [[ $apt_updated -eq 0 ]]; then
    log "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    apt_updated=1
  fi
  log "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# Debian's Chromium, driven headless by playwright-core in test/dashboard-browser.int-spec.ts
# (Playwright's own browser download is not reachable here; the package is).
install_chromium() {
  command -v chromium >/dev/null 2>&1 || apt_install chromium
}

# chdb-core (PyPI): the current ClickHouse engine in process, for stack/chdb/replay.py (issue 14).
install_chdb() {
  local venv="$STACK_DIR/chdb/venv" reqs="$ROOT/stack/chdb/requirements.txt" want
  want="$(sha256sum "$reqs" | cut -c1-16)"
  [[ -x "$venv/bin/python" && "$(cat "$venv/.gpumeter-install" 2>/dev/null)" == "$want" ]] && return
  log "installing chdb-core (stack/chdb/requirements.txt) into $venv"
  mkdir -p "$STACK_DIR/chdb"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q -r "$reqs" >"$STACK_DIR/chdb-install.log" 2>&1 \
    || { cat "$STACK_DIR/chdb-install.log" >&2; die "pip could not install chdb-core"; }
  echo "$want" >"$venv/.gpumeter-install"
}

install_clickhouse() {
  command -v clickhouse-server >/dev/null 2>&1 || apt_install clickhouse-server clickhouse-client
}

install_kafka() {
  command -v java >/dev/null 2>&1 || apt_install openjdk-17-jre-headless
  if [[ ! -f "$KAFKA_VERSION_DIR/.complete" ]]; then
    command -v mvn >/dev/null 2>&1 || apt_install maven
    log "fetching Apache Kafka jars from Maven Central (stack/kafka/pom.xml)"
    mkdir -p "$KAFKA_VERSION_DIR"
    mvn -q -B -f "$ROOT/stack/kafka/pom.xml" dependency:copy-dependencies \
      -DoutputDirectory="$KAFKA_VERSION_DIR" -DincludeScope=runtime >"$STACK_DIR/kafka-install.log" 2>&1 \
      || { cat "$STACK_DIR/kafka-install.log" >&2; die "mvn could not fetch Kafka"; }
    touch "$KAFKA_VERSION_DIR/.complete"
  fi
}

install_localstripe() {
  local venv="$STACK_DIR/stripe/venv" reqs="$ROOT/stack/stripe/localstripe-requirements.txt"
  local want
  want="$(cat "$reqs" "$ROOT/stack/stripe/patch-localstripe.py" | sha256sum | cut -c1-16)"
  [[ -x "$venv/bin/localstripe" && "$(cat "$venv/.gpumeter-install" 2>/dev/null)" == "$want" ]] && return
  [[ -x "$venv/bin/pip" ]] || {
    command -v python3 >/dev/null 2>&1 || apt_install python3 python3-venv
    python3 -m venv "$venv"
  }
  log "installing localstripe (stack/stripe/localstripe-requirements.txt) into $venv"
  # Pinned set first, then localstripe's own files afresh: the patches (see the script) apply
  # to pristine sources only.
  { "$venv/bin/pip" install -q -r "$reqs" &&
    "$venv/bin/pip" install -q --force-reinstall --no-deps "$(grep '^localstripe==' "$reqs")"; } \
    >"$STACK_DIR/localstripe-install.log" 2>&1 \
    || { cat "$STACK_DIR/localstripe-install.log" >&2; die "pip could not install localstripe"; }
  "$venv/bin/python" "$ROOT/stack/stripe/patch-localstripe.py" \
    "$("$venv/bin/python" -c 'import localstripe, os; print(os.path.dirname(localstripe.__file__))')" \
    || die "could not patch localstripe"
  echo "$want" >"$venv/.gpumeter-install"
  if pid_alive localstripe; then
    log "localstripe was running an older install: restarting it"
    service_down localstripe
  fi
}

install_stripe_mock() {
  local bin="$STACK_DIR/stripe/bin"
  if [[ ! -x "$bin/stripe-mock" ]] || [[ "$(cat "$bin/.version" 2>/dev/null)" != "$STRIPE_MOCK_VERSION" ]]; then
    command -v go >/dev/null 2>&1 || apt_install golang-go
    log "building stripe-mock $STRIPE_MOCK_VERSION (go install)"
    mkdir -p "$bin"
    GOBIN="$bin" go install "github.com/stripe/stripe-mock@$STRIPE_MOCK_VERSION" >"$STACK_DIR/stripe-mock-install.log" 2>&1 \
      || { cat "$STACK_DIR/stripe-mock-install.log" >&2; die "go could not install stripe-mock"; }
    echo "$STRIPE_MOCK_VERSION" >"$bin/.version"
  fi
}

# ---------------------------------------------------------------- stripe emulators
localstripe_up() {
  install_localstripe
  local dir="$STACK_DIR/localstripe"
  mkdir -p "$dir/logs"
  if pid_alive localstripe && localstripe_ready; then
    log "localstripe already running (pid $(cat "$(pid_file localstripe)"))"
    return
  fi
  port_open "$LOCALSTRIPE_PORT" && die "port $LOCALSTRIPE_PORT is taken by a process this script did not start"
  # localstripe re-pickles its whole store on every write: once test runs have filled it
  # (a few MB), it spent minutes at start-up before answering. Its objects belong to earlier
  # runs (every run makes its own customers), so a grown state is set aside, not loaded.
  local state="$dir/state.pickle"
  if [[ -f "$state" && "$(stat -c %s "$state")" -gt $((2 * 1024 * 1024)) ]]; then
    log "localstripe's state grew to $(($(stat -c %s "$state") / 1024 / 1024)) MB: set aside as state.pickle.old, starting empty"
    mv -f "$state" "$dir/state.pickle.old"
    rm -f "$dir"/state.pickle.[0-9]*
  fi
  log "starting localstripe"
  # Its state lives in the stack's folder, not in the /tmp file every localstripe shares.
  LOCALSTRIPE_STATE_FILE="$dir/state.pickle" \
    nohup "$STACK_DIR/stripe/venv/bin/localstripe" --port "$LOCALSTRIPE_PORT" >"$dir/logs/localstripe.log" 2>&1 &
  echo $! >"$(pid_file localstripe)"
  wait_until localstripe 120 localstripe_ready
}
localstripe_ready() {
  curl -sf --max-time 2 -u sk_test_stack: "http://127.0.0.1:$LOCALSTRIPE_PORT/v1/customers?limit=1" >/dev/null 2>&1
}

stripe_mock_up() {
  install_stripe_mock
  local dir="$STACK_DIR/stripe-mock"
  mkdir -p "$dir/logs"
  if pid_alive stripe-mock && stripe_mock_ready; then
    log "stripe-mock already running (pid $(cat "$(pid_file stripe-mock)"))"
    return
  fi
  port_open "$STRIPE_MOCK_PORT" && die "port $STRIPE_MOCK_PORT is taken by a process this script did not start"
  log "starting stripe-mock"
  nohup "$STACK_DIR/stripe/bin/stripe-mock" -http-port "$STRIPE_MOCK_PORT" -https-port "$((STRIPE_MOCK_PORT + 1))" \
    >"$dir/logs/stripe-mock.log" 2>&1 &
  echo $! >"$(pid_file stripe-mock)"
  wait_until stripe-mock 60 stripe_mock_ready
}
stripe_mock_ready() {
  curl -sf --max-time 2 -H "Authorization: Bearer sk_test_123" "http://127.0.0.1:$STRIPE_MOCK_PORT/v1/customers" >/dev/null 2>&1
}

# ---------------------------------------------------------------- kafka
# The SASL_SSL listener's credentials (local stack only; tests read them from here too).
KAFKA_SASL_USER=gpumeter
KAFKA_SASL_PASSWORD=gpumeter-local-stack

# A CA, a broker certificate for 127.0.0.1/localhost signed by it (in a PKCS12 keystore), and a
# client certificate: generated once with openssl into .local/kafka/tls.
kafka_tls() {
  local tls="$STACK_DIR/kafka/tls"
  [[ -f "$tls/broker.p12" && -f "$tls/client.pem" ]] && return
  command -v openssl >/dev/null 2>&1 || apt_install openssl
  mkdir -p "$tls"
  log "generating the Kafka TLS certificates ($tls)"
  (
    cd "$tls"
    openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 -subj "/CN=gpumeter local stack CA" \
      -keyout ca.key -out ca.pem 2>/dev/null
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >broker.ext
    openssl req -newkey rsa:2048 -nodes -sha256 -subj "/CN=localhost" -keyout broker.key -out broker.csr 2>/dev/null
    openssl x509 -req -sha256 -days 3650 -in broker.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
      -extfile broker.ext -out broker.pem 2>/dev/null
    openssl pkcs12 -export -in broker.pem -inkey broker.key -certfile ca.pem -name broker \
      -passout "pass:$KAFKA_SASL_PASSWORD" -out broker.p12
    openssl req -newkey rsa:2048 -nodes -sha256 -subj "/CN=gpumeter-client" -keyout client.key -out client.csr 2>/dev/null
    openssl x509 -req -sha256 -days 3650 -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem 2>/dev/null
    chmod 600 ./*.key broker.p12
  ) || die "generating the Kafka TLS certificates failed"
}

# The SCRAM user, made once per data directory through the PLAINTEXT listener.
kafka_scram_user() {
  local dir="$STACK_DIR/kafka" marker="$STACK_DIR/kafka/data/.gpumeter-scram-user"
  [[ -f "$marker" ]] && return
  java -Dlog4j.configuration="file:$dir/log4j.properties" -cp "$KAFKA_VERSION_DIR/*" kafka.admin.ConfigCommand \
    --bootstrap-server "127.0.0.1:$KAFKA_PORT" --alter --entity-type users --entity-name "$KAFKA_SASL_USER" \
    --add-config "SCRAM-SHA-512=[iterations=4096,password=$KAFKA_SASL_PASSWORD]" >"$dir/logs/scram.log" 2>&1 \
    || { cat "$dir/logs/scram.log" >&2; die "creating the Kafka SCRAM user failed"; }
  touch "$marker"
}

kafka_up() {
  install_kafka
  local dir="$STACK_DIR/kafka"
  mkdir -p "$dir/data" "$dir/logs"
  if pid_alive kafka && port_open "$KAFKA_PORT"; then
    log "kafka already running (pid $(cat "$(pid_file kafka)"))"
    kafka_scram_user
    return
  fi
  kafka_tls
  port_open "$KAFKA_PORT" && die "port $KAFKA_PORT is taken by a process this script did not start"
  sed -e "s#@DATA@#$dir/data#" -e "s#@PORT@#$KAFKA_PORT#g" -e "s#@CPORT@#$KAFKA_CONTROLLER_PORT#g" \
    -e "s#@SPORT@#$KAFKA_SASL_SSL_PORT#g" -e "s#@TLS@#$dir/tls#g" \
    -e "s#@USER@#$KAFKA_SASL_USER#g" -e "s#@PASSWORD@#$KAFKA_SASL_PASSWORD#g" \
    "$ROOT/stack/kafka/server.properties.template" >"$dir/server.properties"
  sed -e "s#@LOGS@#$dir/logs#" "$ROOT/stack/kafka/log4j.properties" >"$dir/log4j.properties"
  local cp="$KAFKA_VERSION_DIR/*"
  if [[ ! -f "$dir/data/meta.properties" ]]; then
    local cluster_id
    cluster_id="$(java -cp "$cp" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1)"
    java -Dlog4j.configuration="file:$dir/log4j.properties" -cp "$cp" kafka.tools.StorageTool \
      format -t "$cluster_id" -c "$dir/server.properties" >"$dir/logs/format.log" 2>&1 \
      || { cat "$dir/logs/format.log" >&2; die "kafka storage format failed"; }
  fi
  log "starting kafka"
  nohup java -Xms256m -Xmx512m -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j.configuration="file:$dir/log4j.properties" -Dkafka.logs.dir="$dir/logs" \
    -cp "$cp" kafka.Kafka "$dir/server.properties" >"$dir/logs/stdout.log" 2>&1 &
  echo $! >"$(pid_file kafka)"
  wait_until kafka 90 kafka_ready
  kafka_scram_user
}

kafka_ready() {
  # A metadata round trip, not just an open port: the broker accepts connections before
  # it has a controller and answers metadata requests.
  node "$ROOT/stack/kafka/ping.js" "127.0.0.1:$KAFKA_PORT" >/dev/null 2>&1
}

# ---------------------------------------------------------------- clickhouse
clickhouse_up() {
  install_clickhouse
  local dir="$STACK_DIR/clickhouse"
  mkdir -p "$dir/data" "$dir/logs"
  if pid_alive clickhouse && clickhouse_ready; then
    log "clickhouse already running (pid $(cat "$(pid_file clickhouse)"))"
    return
  fi
  port_open "$CH_HTTP_PORT" && die "port $CH_HTTP_PORT is taken by a process this script did not start"
  log "starting clickhouse"
  nohup clickhouse-server --config-file=/etc/clickhouse-server/config.xml -- \
    --path="$dir/data/" --tmp_path="$dir/data/tmp/" --user_files_path="$dir/data/user_files/" \
    --format_schema_path="$dir/data/format_schemas/" --users_config="$ROOT/stack/clickhouse/users.xml" \
    --logger.log="$dir/logs/ch.log" --logger.errorlog="$dir/logs/ch.err" \
    --http_port="$CH_HTTP_PORT" --tcp_port="${GPUMETER_CLICKHOUSE_TCP_PORT:-9000}" \
    >"$dir/logs/stdout.log" 2>&1 &
  echo $! >"$(pid_file clickhouse)"
  wait_until clickhouse 60 clickhouse_ready
}

clickhouse_ready() { ch_answers "$CH_HTTP_PORT"; }
# Whether the ClickHouse server on an HTTP port answers a query (the main one or a cluster server's).
ch_answers() {
  [[ "$(curl -s --max-time 2 "http://127.0.0.1:$1/?query=SELECT%201" 2>/dev/null)" == "1" ]]
}


# ---------------------------------------------------------------- cluster (ZooKeeper + 3 ClickHouse)
zookeeper_up() {
  install_kafka
  local dir="$STACK_DIR/zookeeper"
  mkdir -p "$dir/data" "$dir/logs"
  if pid_alive zookeeper && zookeeper_ready; then
    log "zookeeper already running (pid $(cat "$(pid_file zookeeper)"))"
    return
  fi
  port_open "$ZK_PORT" && die "port $ZK_PORT is taken by a process this script did not start"
  cat >"$dir/zoo.cfg" <<CFG
tickTime=2000
initLimit=10
syncLimit=5
dataDir=$dir/data
clientPort=$ZK_PORT
clientPortAddress=127.0.0.1
admin.enableServer=false
4lw.commands.whitelist=ruok,srvr,mntr
maxClientCnxns=200
autopurge.snapRetainCount=3
autopurge.purgeInterval=1
CFG
  log "starting zookeeper"
  nohup java -Xms128m -Xmx256m -Dlog4j.configuration="file:$ROOT/stack/kafka/log4j.properties" \
    -Dkafka.logs.dir="$dir/logs" -cp "$KAFKA_VERSION_DIR/*" \
    org.apache.zookeeper.server.quorum.QuorumPeerMain "$dir/zoo.cfg" >"$dir/logs/zookeeper.log" 2>&1 &
  echo $! >"$(pid_file zookeeper)"
  wait_until zookeeper 60 zookeeper_ready
}

zookeeper_ready() {
  local answer
  answer="$( (exec 3<>"/dev/tcp/127.0.0.1/$ZK_PORT" && printf 'ruok' >&3 && timeout 2 cat <&3) 2>/dev/null || true)"
  [[ "$answer" == imok ]]
}

cluster_node_field() { # node-spec field-index
  echo "$1" | cut -d: -f"$2"
}

cluster_node_up() {
  local spec="$1" name shard http tcp inter dir
  name="$(cluster_node_field "$spec" 1)"; shard="$(cluster_node_field "$spec" 2)"
  http="$(cluster_node_field "$spec" 3)"; tcp="$(cluster_node_field "$spec" 4)"; inter="$(cluster_node_field "$spec" 5)"
  dir="$STACK_DIR/$name"
  mkdir -p "$dir/data" "$dir/logs" "$dir/config.d"
  if pid_alive "$name" && ch_answers "$http"; then
    log "$name already running (pid $(cat "$(pid_file "$name")"))"
    return
  fi
  port_open "$http" && die "port $http is taken by a process this script did not start"
  # Debian's config.xml, copied so that this server's config.d (next to it) is its own.
  cp /etc/clickhouse-server/config.xml "$dir/config.xml"
  sed -e "s#@HTTP_PORT@#$http#; s#@TCP_PORT@#$tcp#; s#@INTERSERVER_PORT@#$inter#; s#@DIR@#$dir#g" \
    -e "s#@ROOT@#$ROOT#; s#@ZK_PORT@#$ZK_PORT#; s#@SHARD@#$shard#; s#@REPLICA@#$name#" \
    -e "s#@CH1_TCP@#$(cluster_node_field "${CLUSTER_NODES[0]}" 4)#" \
    -e "s#@CH2_TCP@#$(cluster_node_field "${CLUSTER_NODES[1]}" 4)#" \
    -e "s#@CH3_TCP@#$(cluster_node_field "${CLUSTER_NODES[2]}" 4)#" \
    "$ROOT/stack/clickhouse/cluster-node.xml.template" >"$dir/config.d/node.xml"
  log "starting $name (shard $shard, http :$http, tcp :$tcp)"
  nohup clickhouse-server --config-file="$dir/config.xml" >"$dir/logs/stdout.log" 2>&1 &
  echo $! >"$(pid_file "$name")"
  CH_WAIT_PORT="$http" wait_until "$name" 60 ch_wait_port_answers
}

ch_wait_port_answers() { ch_answers "$CH_WAIT_PORT"; }

cluster_up() {
  install_clickhouse
  zookeeper_up
  for spec in "${CLUSTER_NODES[@]}"; do cluster_node_up "$spec"; done
  # Every server sees the cluster's three replicas and ZooKeeper.
  local http seen
  for spec in "${CLUSTER_NODES[@]}"; do
    http="$(cluster_node_field "$spec" 3)"
    seen="$(curl -s "http://127.0.0.1:$http/" --data-binary "SELECT count() FROM system.clusters WHERE cluster = 'gpumeter'")"
    [[ "$seen" == 3 ]] || die "$(cluster_node_field "$spec" 1) sees $seen replicas of cluster gpumeter, not 3"
    curl -sf "http://127.0.0.1:$http/" --data-binary "SELECT count() FROM system.zookeeper WHERE path = '/'" >/dev/null \
      || die "$(cluster_node_field "$spec" 1) cannot reach ZooKeeper"
  done
}

cluster_down() {
  for spec in "${CLUSTER_NODES[@]}"; do service_down "$(cluster_node_field "$spec" 1)"; done
  service_down zookeeper
}

# ---------------------------------------------------------------- common
wait_until() {
  local name="$1" timeout="$2" check="$3" i=0
  while ! "$check"; do
    pid_alive "$name" || { tail -30 "$STACK_DIR/$name/logs/"*.log >&2 || true; die "$name exited during start-up"; }
    i=$((i + 1))
    if [[ $i -ge $((timeout * 2)) ]]; then
      # What CI prints is all the next reader has: the service's log and what is listening.
      tail -30 "$STACK_DIR/$name/logs/"*.log >&2 || true
      (ss -ltnp 2>/dev/null || netstat -ltnp 2>/dev/null || true) | sed 's/^/[stack] listening: /' >&2
      die "$name did not answer within ${timeout}s"
    fi
    sleep 0.5
  done
}

service_down() {
  local name="$1" f pid i
  [[ "$name" == chromium || "$name" == chdb ]] && return
  f="$(pid_file "$name")"
  if ! pid_alive "$name"; then
    rm -f "$f"
    log "$name not running"
    return
  fi
  pid="$(cat "$f")"
  log "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  if kill -0 "$pid" 2>/dev/null; then
    log "$name did not stop in 30s; SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

service_status() {
  local name="$1" where
  if [[ "$name" == cluster ]]; then
    service_status zookeeper
    for spec in "${CLUSTER_NODES[@]}"; do service_status "$(cluster_node_field "$spec" 1)"; done
    return
  fi
  if [[ "$name" == chdb ]]; then
    if [[ -x "$STACK_DIR/chdb/venv/bin/python" ]]; then
      echo "chdb       chdb-core $("$STACK_DIR/chdb/venv/bin/python" -c 'import chdb; print(chdb.query("SELECT version()", "TSV"))' 2>/dev/null | tr -d '\n')  installed (for the ClickHouse version lane)"
    else
      echo "chdb       not installed"
    fi
    return
  fi
  if [[ "$name" == chromium ]]; then
    if command -v chromium >/dev/null 2>&1; then
      echo "chromium   $(chromium --version 2>/dev/null | head -1)  installed (for browser tests)"
    else
      echo "chromium   not installed"
    fi
    return
  fi
  case "$name" in
    kafka) where="kafka      127.0.0.1:$KAFKA_PORT (controller :$KAFKA_CONTROLLER_PORT, SASL_SSL :$KAFKA_SASL_SSL_PORT)" ;;
    clickhouse) where="clickhouse http://127.0.0.1:$CH_HTTP_PORT" ;;
    localstripe) where="localstripe http://127.0.0.1:$LOCALSTRIPE_PORT (stateful Stripe emulator)" ;;
    stripe-mock) where="stripe-mock http://127.0.0.1:$STRIPE_MOCK_PORT (Stripe's request validator)" ;;
    zookeeper) where="zookeeper  127.0.0.1:$ZK_PORT (for the ClickHouse cluster)" ;;
    ch[0-9])
      local spec
      for spec in "${CLUSTER_NODES[@]}"; do
        [[ "$(cluster_node_field "$spec" 1)" == "$name" ]] && where="$name        http://127.0.0.1:$(cluster_node_field "$spec" 3) (cluster gpumeter, shard $(cluster_node_field "$spec" 2))"
      done
      ;;
  esac
  if pid_alive "$name"; then
    echo "$where  running (pid $(cat "$(pid_file "$name")"))"
  else
    echo "$where  stopped"
  fi
}

cmd="${1:-status}"
shift || true
services=("$@")
[[ ${#services[@]} -eq 0 ]] && services=("${ALL_SERVICES[@]}")
mkdir -p "$STACK_DIR"
case "$cmd" in
  install) install_clickhouse; install_kafka; install_localstripe; install_stripe_mock; install_chromium; install_chdb ;;
  up)
    for s in "${services[@]}"; do
      case "$s" in
        kafka) kafka_up ;;
        clickhouse) clickhouse_up ;;
        localstripe) localstripe_up ;;
        stripe-mock) stripe_mock_up ;;
        chromium) install_chromium ;;
        chdb) install_chdb ;;
        cluster) cluster_up ;;
        *) die "unknown service $s" ;;
      esac
    done
    for s in "${services[@]}"; do service_status "$s"; done
    ;;
  down)
    for s in "${services[@]}"; do
      if [[ "$s" == cluster ]]; then cluster_down; else service_down "$s"; fi
    done
    ;;
  status) for s in "${services[@]}"; do service_status "$s"; done ;;
  *) die "usage: stack.sh up|down|status|install [service...]" ;;
esac
