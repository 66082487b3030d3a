#!/usr/bin/env bash
# A ClickHouse cluster for the cluster-mode tests, everything under $1:
# Debian's ZooKeeper on 127.0.0.1:2181 (standalone) and two Debian
# clickhouse-server processes as two replicas of one shard of the cluster
# `dmarcflow`:
#   replica r1: HTTP 127.0.0.1:8124, native 9001, interserver 9011
#   replica r2: HTTP 127.0.0.1:8125, native 9002, interserver 9012
# Leaves $1/env with DMARCFLOW_CLICKHOUSE_CLUSTER_TEST_* for the tests
# (URLS, NAME, and START_/STOP_ commands per replica, which the test uses
# to stop one replica mid-stream and start it again).
set -euo pipefail
# shellcheck source=.ci/clickhouse-users.sh
. "$(dirname "$0")/clickhouse-users.sh"
dir="${1:?usage: clickhouse-cluster.sh DIR}"
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
for pkg in zookeeper clickhouse-server; do
    dpkg -s "$pkg" >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$pkg" clickhouse-client >/dev/null
done

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# ZooKeeper, standalone, data under $dir/zookeeper.
if ! answers 2181; then
    mkdir -p "$dir/zookeeper/data"
    cat > "$dir/zookeeper/zoo.cfg" <<CFG
tickTime=2000
dataDir=$dir/zookeeper/data
clientPort=2181
clientPortAddress=127.0.0.1
admin.enableServer=false
CFG
    jars="$(ls /usr/share/java/*.jar | grep -E '/(zookeeper|zookeeper-jute|slf4j-api|slf4j-simple|netty[^/]*|metrics-core|snappy[^/]*|commons-cli|commons-io)\.jar$' | tr '\n' ':')"
    nohup java -cp "/etc/zookeeper/conf:$jars" -Dzookeeper.admin.enableServer=false \
        org.apache.zookeeper.server.ZooKeeperServerMain "$dir/zookeeper/zoo.cfg" \
        >"$dir/zookeeper/log" 2>&1 &
    for _ in $(seq 1 60); do answers 2181 && break; sleep 0.5; done
    answers 2181 || { echo "zookeeper did not start" >&2; tail -20 "$dir/zookeeper/log" >&2; exit 1; }
fi

id clickhouse >/dev/null 2>&1 || useradd --system --home-dir "$dir" clickhouse

for n in 1 2; do
    r="$dir/r$n"
    http=$((8123 + n)); tcp=$((9000 + n)); inter=$((9010 + n))
    mkdir -p "$r"/{data,tmp,user_files,format_schemas,log}
    cat > "$r/config.xml" <<XML
<?xml version="1.0"?>
<yandex>
    <logger><level>warning</level><log>$r/log/server.log</log><errorlog>$r/log/error.log</errorlog></logger>
    <http_port>$http</http_port>
    <tcp_port>$tcp</tcp_port>
    <interserver_http_port>$inter</interserver_http_port>
    <interserver_http_host>127.0.0.1</interserver_http_host>
    <listen_host>127.0.0.1</listen_host>
    <max_connections>256</max_connections>
    <keep_alive_timeout>10</keep_alive_timeout>
    <max_concurrent_queries>100</max_concurrent_queries>
    <uncompressed_cache_size>268435456</uncompressed_cache_size>
    <mark_cache_size>268435456</mark_cache_size>
    <path>$r/data/</path>
    <tmp_path>$r/tmp/</tmp_path>
    <user_files_path>$r/user_files/</user_files_path>
    <format_schema_path>$r/format_schemas/</format_schema_path>
    <users_config>$dir/users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
    <mlock_executable>false</mlock_executable>
    <zookeeper><node><host>127.0.0.1</host><port>2181</port></node></zookeeper>
    <distributed_ddl><path>/clickhouse/task_queue/ddl</path></distributed_ddl>
    <macros><shard>01</shard><replica>r$n</replica></macros>
    <remote_servers>
        <dmarcflow>
            <shard>
                <internal_replication>true</internal_replication>
                <replica><host>127.0.0.1</host><port>9001</port></replica>
                <replica><host>127.0.0.1</host><port>9002</port></replica>
            </shard>
        </dmarcflow>
    </remote_servers>
</yandex>
XML
    cat > "$r/start" <<SH
#!/bin/sh
cd "$r" && su -s /bin/sh clickhouse -c "clickhouse-server --daemon --config-file=$r/config.xml --pid-file=$r/server.pid"
for _ in \$(seq 1 240); do curl -sf http://127.0.0.1:$http/ping >/dev/null 2>&1 && exit 0; sleep 0.5; done
echo "replica r$n did not start" >&2; tail -20 "$r/log/error.log" >&2; exit 1
SH
    cat > "$r/stop" <<SH
#!/bin/sh
pid="\$(cat "$r/server.pid" 2>/dev/null || true)"
[ -n "\$pid" ] || { echo "replica r$n: no pid file" >&2; exit 1; }
kill "\$pid" 2>/dev/null || true
for _ in \$(seq 1 120); do kill -0 "\$pid" 2>/dev/null || exit 0; sleep 0.5; done
kill -9 "\$pid" 2>/dev/null || true
exit 0
SH
    chmod +x "$r/start" "$r/stop"
done
write_users "$dir/users.xml" 2000000000
chown -R clickhouse "$dir"
# Replicas left from an earlier run belong to another directory (their
# stop scripts too): replace them.
for n in 1 2; do
    if curl -sf "http://127.0.0.1:$((8123 + n))/ping" >/dev/null 2>&1; then
        pkill -f "clickhouse-server.*/r$n/config.xml" || true
        for _ in $(seq 1 120); do
            curl -sf "http://127.0.0.1:$((8123 + n))/ping" >/dev/null 2>&1 || break
            sleep 0.5
        done
    fi
    "$dir/r$n/start"
done
cat > "$dir/env" <<ENV
export DMARCFLOW_CLICKHOUSE_CLUSTER_TEST_URLS=http://127.0.0.1:8124,http://127.0.0.1:8125
export DMARCFLOW_CLICKHOUSE_CLUSTER_TEST_NAME=dmarcflow
export DMARCFLOW_CLICKHOUSE_CLUSTER_TEST_STOP_2=$dir/r2/stop
export DMARCFLOW_CLICKHOUSE_CLUSTER_TEST_START_2=$dir/r2/start
ENV
