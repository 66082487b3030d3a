# Sourced by .ci/clickhouse.sh and .ci/clickhouse-cluster.sh:
# write_users FILE MAX_MEMORY writes a users.xml with the default user on
# loopback, no quotas, and the profile's memory cap. LowCardinality was
# experimental before 19.x; current servers reject the old switch as an
# unknown setting (Code: 115), so only old ones get it. (18.16's server has
# no --version; its client says "client version 18.16.1".)
write_users() {
    local file="$1" max_memory="$2" major low_cardinality=""
    major="$({ clickhouse-client --version 2>/dev/null || true; } | grep -oE '[0-9]+\.[0-9]+' | head -1 | cut -d. -f1 || true)"
    if [ -n "$major" ] && [ "$major" -lt 19 ]; then
        low_cardinality="<allow_experimental_low_cardinality_type>1</allow_experimental_low_cardinality_type>"
    fi
    cat > "$file" <<XML
<?xml version="1.0"?>
<yandex>
    <profiles><default><max_memory_usage>$max_memory</max_memory_usage>$low_cardinality</default></profiles>
    <users><default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
        <profile>default</profile><quota>default</quota></default></users>
    <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors>
        <result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
XML
}
