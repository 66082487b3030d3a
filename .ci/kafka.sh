#!/usr/bin/env bash
# Apache Kafka 4.x, one broker+controller in KRaft mode on 127.0.0.1:9092
# (controller on :9093), storage under $1 (formatted with --standalone on
# first use, kept across restarts of the same directory). The broker's jars
# come from Maven Central (org.apache.kafka:kafka_2.13 and its runtime
# dependencies, with a log4j2 binding) through `mvn dependency:copy-
# dependencies` from a pom this script writes, cached outside the work tree
# in /var/tmp/dmarcflow-kafka/<version>. Leaves $1/start and $1/stop (the
# fault tests kill and restart the broker on the same storage) and $1/env.
set -euo pipefail
dir="${1:?usage: kafka.sh DIR}"
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
version="${KAFKA_VERSION:-4.1.1}"
cache="/var/tmp/dmarcflow-kafka/$version"
if [ ! -f "$cache/.complete" ]; then
    mkdir -p "$cache/pom"
    cat > "$cache/pom/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dmarcflow.ci</groupId>
  <artifactId>kafka-broker</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$version</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId><version>2.0.17</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j2-impl</artifactId><version>2.24.3</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>2.24.3</version></dependency>
  </dependencies>
</project>
POM
    (cd "$cache/pom" && mvn -q -B dependency:copy-dependencies -DoutputDirectory="$cache/jars" -DincludeScope=runtime)
    touch "$cache/.complete"
fi
cat > "$dir/log4j2.properties" <<PROPS
status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = $dir/broker.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.file.ref = file
PROPS
cat > "$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:9093
listeners=PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093
advertised.listeners=PLAINTEXT://127.0.0.1:9092
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/data
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
PROPS
java=(java -Xms256m -Xmx768m -Dlog4j2.configurationFile="$dir/log4j2.properties" -cp "$cache/jars/*")
if [ ! -f "$dir/data/meta.properties" ]; then
    id="$("${java[@]}" kafka.tools.StorageTool random-uuid)"
    "${java[@]}" kafka.tools.StorageTool format --standalone -t "$id" -c "$dir/server.properties" >/dev/null
fi
cat > "$dir/start" <<SH
#!/usr/bin/env bash
nohup ${java[*]} kafka.Kafka "$dir/server.properties" >"$dir/stdout.log" 2>&1 &
echo \$! > "$dir/pid"
for _ in \$(seq 1 120); do
    (exec 3<>/dev/tcp/127.0.0.1/9092) 2>/dev/null && exit 0
    sleep 0.5
done
echo "kafka did not start" >&2; tail -n 20 "$dir/broker.log" "$dir/stdout.log" >&2; exit 1
SH
sed -i '1a set -e' "$dir/start"
sed -i 's|^nohup .*kafka.Kafka|nohup java -Xms256m -Xmx768m -Dlog4j2.configurationFile='"$dir"'/log4j2.properties -cp "'"$cache"'/jars/*" kafka.Kafka|' "$dir/start"
cat > "$dir/stop" <<SH
#!/usr/bin/env bash
# SIGKILL: what the fault tests do to a broker.
pid="\$(cat "$dir/pid" 2>/dev/null || true)"
[ -n "\$pid" ] || { echo "no broker pid in $dir" >&2; exit 1; }
kill -9 "\$pid" 2>/dev/null || true
for _ in \$(seq 1 60); do kill -0 "\$pid" 2>/dev/null || exit 0; sleep 0.5; done
exit 0
SH
chmod +x "$dir/start" "$dir/stop"
# A broker left from an earlier run has another directory (and its stop
# script another pid file): replace it.
if (exec 3<>/dev/tcp/127.0.0.1/9092) 2>/dev/null; then
    pkill -f "kafka.Kafka .*server.properties" || true
    for _ in $(seq 1 120); do
        (exec 3<>/dev/tcp/127.0.0.1/9092) 2>/dev/null || break
        sleep 0.5
    done
fi
"$dir/start"
cat > "$dir/env" <<ENV
export DMARCFLOW_KAFKA_BROKERS=127.0.0.1:9092
export DMARCFLOW_KAFKA_TEST_STOP=$dir/stop
export DMARCFLOW_KAFKA_TEST_START=$dir/start
export DMARCFLOW_KAFKA_TEST_DATA=$dir/data
ENV
