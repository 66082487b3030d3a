#!/usr/bin/env bash
# Installs (Debian's exim4-daemon-light) and starts an Exim SMTP relay for
# the alerts' e-mail tests, everything under the directory $1:
#   127.0.0.1:12525  SMTP, accepting mail from 127.0.0.1 for anyone
# and delivering all of it into the maildir $2 (the Dovecot mailbox
# `alerts` of .ci/dovecot.sh, where the tests read it back over IMAP).
# Leaves $1/env with DMARCFLOW_ALERTS_TEST_RELAY.
set -euo pipefail
dir="${1:?usage: exim.sh DIR MAILDIR}"
maildir="${2:?usage: exim.sh DIR MAILDIR}"
mkdir -p "$dir/spool" "$dir/log"
dir="$(cd "$dir" && pwd)"
if ! command -v exim4 >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q exim4-daemon-light >/dev/null
fi
# The packaged daemon (port 25) is not ours; one of ours left from an
# earlier run delivers elsewhere: stop both.
pkill -x exim4 || true
sleep 0.5
# Deliveries run as the package's user (Exim refuses root), into a maildir
# everyone may write.
cat >"$dir/exim.conf" <<CONF
primary_hostname = relay.dmarcflow.test
daemon_smtp_ports = 12525
local_interfaces = 127.0.0.1
spool_directory = $dir/spool
log_file_path = $dir/log/%slog
exim_user = root
exim_group = root
never_users =
host_lookup =
acl_smtp_rcpt = acl_rcpt
begin acl
acl_rcpt:
  accept hosts = 127.0.0.1
  deny
begin routers
to_maildir:
  driver = accept
  transport = maildir_delivery
begin transports
maildir_delivery:
  driver = appendfile
  directory = $maildir
  maildir_format
  create_directory
  user = Debian-exim
  group = Debian-exim
  mode = 0666
  directory_mode = 0777
  envelope_to_add
  return_path_add
begin retry
* * F,1h,1m
CONF
exim4 -C "$dir/exim.conf" -bd -q5s
for _ in $(seq 1 40); do
    (exec 3<>/dev/tcp/127.0.0.1/12525) 2>/dev/null && break
    sleep 0.25
done
if ! (exec 3<>/dev/tcp/127.0.0.1/12525) 2>/dev/null; then
    echo "exim did not start; log:" >&2
    tail -20 "$dir/log/paniclog" "$dir/log/mainlog" >&2 || true
    exit 1
fi
echo "export DMARCFLOW_ALERTS_TEST_RELAY=127.0.0.1:12525" >"$dir/env"
