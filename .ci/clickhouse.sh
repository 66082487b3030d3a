#!/usr/bin/env bash
# Installs (Debian clickhouse-server) and starts a throwaway ClickHouse on
# 127.0.0.1:8123 with its data under $1 (default /tmp/dmarcflow-clickhouse).
# Prints nothing on success; exits non-zero if the server does not answer.
set -euo pipefail
# shellcheck source=.ci/clickhouse-users.sh
. "$(dirname "$0")/clickhouse-users.sh"
dir="${1:-/tmp/dmarcflow-clickhouse}"
if ! command -v clickhouse-server >/dev/null; then
    apt-get install -y -q clickhouse-server clickhouse-client >/dev/null
fi
if curl -sf http://127.0.0.1:8123/ping >/dev/null 2>&1; then
    exit 0
fi
id clickhouse >/dev/null 2>&1 || useradd --system --home-dir "$dir" clickhouse
mkdir -p "$dir"/{data,tmp,user_files,format_schemas,log}
cat > "$dir/config.xml" <<XML
<?xml version="1.0"?>
<yandex>
    <logger><level>warning</level><log>$dir/log/server.log</log><errorlog>$dir/log/error.log</errorlog></logger>
    <http_port>8123</http_port>
    <tcp_port>9000</tcp_port>
    <listen_host>127.0.0.1</listen_host>
    <max_connections>512</max_connections>
    <keep_alive_timeout>10</keep_alive_timeout>
    <max_concurrent_queries>100</max_concurrent_queries>
    <uncompressed_cache_size>1073741824</uncompressed_cache_size>
    <mark_cache_size>536870912</mark_cache_size>
    <path>$dir/data/</path>
    <tmp_path>$dir/tmp/</tmp_path>
    <user_files_path>$dir/user_files/</user_files_path>
    <format_schema_path>$dir/format_schemas/</format_schema_path>
    <users_config>$dir/users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
    <mlock_executable>false</mlock_executable>
</yandex>
XML
write_users "$dir/users.xml" 4000000000
chown -R clickhouse "$dir"
(cd "$dir" && su -s /bin/sh clickhouse -c "clickhouse-server --daemon --config-file=$dir/config.xml --pid-file=$dir/server.pid")
for _ in $(seq 1 60); do
    curl -sf http://127.0.0.1:8123/ping >/dev/null 2>&1 && exit 0
    sleep 0.5
done
echo "clickhouse did not start; log:" >&2
tail -20 "$dir/log/error.log" >&2 || true
exit 1
