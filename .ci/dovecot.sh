#!/usr/bin/env bash
# Installs (Debian's dovecot-imapd) and starts a Dovecot IMAP server for the
# IMAP source's tests, everything under the directory $1:
#   127.0.0.1:10143  IMAP (STARTTLS offered)
#   127.0.0.1:10993  IMAP over implicit TLS
# users `reports` and `alerts` (passwords the same), maildir storage, a self-signed
# certificate for 127.0.0.1 whose PEM is $1/ca.pem (the client trusts it).
# Leaves $1/env with the DMARCFLOW_IMAP_TEST_* variables the tests read
# (and the user's maildir, where benches/e2e/imap.sh drops mail directly).
set -euo pipefail
dir="${1:?usage: dovecot.sh DIR}"
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
if ! command -v dovecot >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q dovecot-imapd >/dev/null
fi
# A Dovecot left from an earlier run has another CA: replace it.
if (exec 3<>/dev/tcp/127.0.0.1/10143) 2>/dev/null; then
    pkill -x dovecot || true
    for _ in $(seq 1 40); do
        (exec 3<>/dev/tcp/127.0.0.1/10143) 2>/dev/null || break
        sleep 0.25
    done
fi
{
    mkdir -p "$dir/mail" "$dir/run"
    # A private CA ($dir/ca.pem, what the client trusts) and the server's
    # certificate for 127.0.0.1 signed by it.
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=dmarcflow test CA" \
        -keyout "$dir/ca-key.pem" -out "$dir/ca.pem" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
        -keyout "$dir/key.pem" -out "$dir/cert.csr" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n' >"$dir/cert.ext"
    openssl x509 -req -in "$dir/cert.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca-key.pem" \
        -CAcreateserial -days 3650 -extfile "$dir/cert.ext" -out "$dir/cert.pem" 2>/dev/null
    chmod 755 "$dir"
    # Dovecot's own processes must not run as root: its packaged users.
    if [ "$(id -u)" = 0 ]; then
        internal=dovecot login=dovenull owner=dovecot
    else
        internal="$(id -un)" login="$(id -un)" owner="$(id -un)"
    fi
    chown "$owner" "$dir/mail"
    # passwd-file: user:{scheme}password:uid:gid::home
    echo "reports:{PLAIN}reports:$(id -u "$owner"):$(id -g "$owner")::$dir/mail/reports" >"$dir/passwd"
    # A second mailbox, `alerts`, where the SMTP relay of .ci/exim.sh
    # delivers the alert e-mails the tests send (its own user writes it).
    mkdir -p "$dir/mail/alerts/Maildir/new" "$dir/mail/alerts/Maildir/cur" "$dir/mail/alerts/Maildir/tmp"
    chmod -R 0777 "$dir/mail/alerts"
    echo "alerts:{PLAIN}alerts:$(id -u "$owner"):$(id -g "$owner")::$dir/mail/alerts" >>"$dir/passwd"
    cat >"$dir/dovecot.conf" <<EOF
base_dir = $dir/run
state_dir = $dir/run
log_path = $dir/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <$dir/cert.pem
ssl_key = <$dir/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 0
default_internal_user = $internal
default_login_user = $login
mail_location = maildir:~/Maildir
mail_privileged_group =
passdb {
  driver = passwd-file
  args = scheme=PLAIN $dir/passwd
}
userdb {
  driver = passwd-file
  args = $dir/passwd
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = 10143
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = 10993
    ssl = yes
  }
}
service anvil {
  chroot =
}
service imap-login {
  chroot =
}
namespace inbox {
  inbox = yes
  separator = /
}
EOF
    dovecot -c "$dir/dovecot.conf"
    for _ in $(seq 1 40); do
        (exec 3<>/dev/tcp/127.0.0.1/10143) 2>/dev/null && break
        sleep 0.25
    done
    if ! (exec 3<>/dev/tcp/127.0.0.1/10143) 2>/dev/null; then
        echo "dovecot did not start; log:" >&2
        tail -20 "$dir/dovecot.log" >&2 || true
        exit 1
    fi
}
cat >"$dir/env" <<EOF
export DMARCFLOW_IMAP_TEST_HOST=127.0.0.1
export DMARCFLOW_IMAP_TEST_PORT=10143
export DMARCFLOW_IMAP_TEST_TLS_PORT=10993
export DMARCFLOW_IMAP_TEST_CA=$dir/ca.pem
export DMARCFLOW_IMAP_TEST_USER=reports
export DMARCFLOW_IMAP_TEST_PASSWORD=reports
export DMARCFLOW_IMAP_TEST_MAILDIR=$dir/mail/reports/Maildir
export DMARCFLOW_ALERTS_TEST_MAILBOX=alerts
export DMARCFLOW_ALERTS_TEST_MAILDIR=$dir/mail/alerts/Maildir
EOF
