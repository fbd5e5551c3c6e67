#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# tests/postfix/run.sh BUILD_DIR - spfkitd behind a real Postfix: a private
# Postfix instance (its own config_directory, queue and mailbox under a
# temporary directory, SMTP on a loopback port chosen here) asks spfkitd
# through check_policy_service; client.py talks SMTP with XCLIENT and
# checks the replies and the delivered mailbox. DNS is NSD on a loopback
# port serving tests/postfix/zone.db, which spfkitd asks through
# libunbound (nameserver = 127.0.0.1@PORT). The same stories run three ways: policy service (inet and
# spawn(8)), and milter (smtpd_milters) twice: the policy daemon's own
# process with Received-SPF, and a second spfkitd with
# Authentication-Results; both must remove a forged Authentication-Results
# that claims mx.test.example. A fifth listener runs the SRS story
# (srs.py): its cleanup service asks spfkitd's SRS socketmap
# (sender_canonical_maps forward, recipient_canonical_maps reverse), an
# alias forwards to remote.example, and Postfix relays remote mail to an
# SMTP sink that srs.py runs; a sixth runs it again with spfkitd's milter
# rewriting (srs_milter). Postfix and spfkitd are stopped by PID;
# /etc/postfix is only read. Ends with "N passed, N failed".
set -u
build=${1:?usage: run.sh BUILD_DIR}
cd "$(dirname "$0")/../.."
root=$(pwd)
bin=$root/$build/src/spfkitd/spfkitd
PY=/usr/bin/python3
fail_all() { echo "postfix: $*"; echo "0 passed, 1 failed"; exit 1; }
[ -x "$bin" ] || fail_all "no $bin"
command -v postconf >/dev/null && [ -x /usr/lib/postfix/sbin/master ] || fail_all "postfix is not installed (scripts/deps.sh)"
[ "$(id -u)" -eq 0 ] || fail_all "needs root (Postfix's master runs its services as user postfix)"
id postfix >/dev/null 2>&1 || fail_all "no postfix user"

tmp=$(mktemp -d /tmp/spfkit-postfix.XXXXXX)
chmod 755 "$tmp"
INT_TMP=$tmp INT_PY=$PY
. "$root/tests/integration/lib.sh"
master_pid="" spfkitd_pid="" spfkitd2_pid=""
cleanup() {
	local pid
	int_stop_all
	for pid in $master_pid $spfkitd_pid $spfkitd2_pid; do
		kill -TERM "$pid" 2>/dev/null || continue
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	# Postfix children exit when their master goes; wait for them so
	# the directory can go.
	for _ in $(seq 50); do pgrep -f "$tmp/etc" >/dev/null || break; sleep 0.1; done
	rm -rf "$tmp"
}
trap cleanup EXIT

# free_port (tests/integration/lib.sh): free on 127.0.0.1 for TCP and UDP.
smtp_port=$(free_port)
policy_port=$(free_port)
spawn_port=$(free_port)
while [ "$policy_port" = "$smtp_port" ]; do policy_port=$(free_port); done
while [ "$spawn_port" = "$smtp_port" ] || [ "$spawn_port" = "$policy_port" ]; do spawn_port=$(free_port); done
# Seven more: two SMTP listeners with milters, two milter endpoints, the
# SRS listener, the SRS socketmap and the remote MTA (sink).
ports="$smtp_port $policy_port $spawn_port"
more=()
while [ ${#more[@]} -lt 8 ]; do
	p=$(free_port)
	case " $ports " in *" $p "*) continue ;; esac
	ports="$ports $p"; more+=("$p")
done
msmtp_port=${more[0]} arsmtp_port=${more[1]} milter_port=${more[2]} milter2_port=${more[3]}
srssmtp_port=${more[4]} srs_port=${more[5]} sink_port=${more[6]} srsmilter_port=${more[7]}

# ---------------------------------------------------------------- DNS
dns_port=$(free_port)
while case " $ports " in *" $dns_port "*) true ;; *) false ;; esac; do dns_port=$(free_port); done
cp "$root/tests/postfix/zone.db" "$tmp/root.zone"
nsd_start "$tmp/nsd" "$tmp/root.zone" "$dns_port" || fail_all "NSD did not start"

# ---------------------------------------------------------------- spfkitd
cat >"$tmp/spfkitd.conf" <<CONF
listen = inet:127.0.0.1:$policy_port
milter_listen = inet:$milter_port@127.0.0.1
nameserver = 127.0.0.1@$dns_port
query_timeout = 3s
deadline = 8s
receiver = mx.test.example
log = stderr
helo_check = yes
mailfrom_fail = reject
mailfrom_softfail = accept
mailfrom_temperror = defer
skip_addresses = 127.0.0.0/8, 10.9.9.0/24
CONF
# SRS: a test secret generated here (never a real one in the tree).
head -c 24 /dev/urandom | base64 >"$tmp/srs.secrets"
chmod 644 "$tmp/srs.secrets"
cat >"$tmp/spfkitd-srs.conf" <<CONF
srs_domain = test.example
srs_secrets = $tmp/srs.secrets
srs_local_domains = local.example
CONF
cat "$tmp/spfkitd-srs.conf" >>"$tmp/spfkitd.conf"
echo "srs_listen = inet:127.0.0.1:$srs_port" >>"$tmp/spfkitd.conf"
# The milter rewrites too, only for mail that leaves (the milter stories
# of client.py deliver locally: nothing changes for them).
echo "srs_milter = yes" >>"$tmp/spfkitd.conf"
"$bin" -t -c "$tmp/spfkitd.conf" >/dev/null || fail_all "spfkitd -t"
# The same settings for spawn(8) mode: one spfkitd --stdio per Postfix
# connection, its log to syslog (stderr is not ours to write there).
grep -v -e '^listen' -e '^milter_listen' -e '^log' -e '^srs_' "$tmp/spfkitd.conf" >"$tmp/spfkitd-spawn.conf"
chmod 644 "$tmp/spfkitd-spawn.conf"
# spawn runs it as nobody, who may not reach into the checkout (a clone in
# a mktemp -d directory is mode 0700): a copy of the daemon and its library
# here, laid out as in the build tree so its RUNPATH ($ORIGIN/../..) holds.
mkdir -p "$tmp/sbin/src/spfkitd"
cp "$bin" "$tmp/sbin/src/spfkitd/spfkitd"
cp -L "$root/$build/libspfkit.so.0" "$tmp/sbin/libspfkit.so.0"
chmod -R a+rX "$tmp/sbin"
spawn_bin=$tmp/sbin/src/spfkitd/spfkitd
"$bin" -f -c "$tmp/spfkitd.conf" 2>"$tmp/spfkitd.log" &
spfkitd_pid=$!
# A milter-only spfkitd whose header is Authentication-Results.
grep -v -e '^listen' -e '^milter_listen' -e '^srs_' "$tmp/spfkitd.conf" >"$tmp/spfkitd-ar.conf"
cat >>"$tmp/spfkitd-ar.conf" <<CONF
milter_listen = inet:127.0.0.1:$milter2_port
header = authentication-results
authserv_id = mx.test.example
CONF
"$bin" -t -c "$tmp/spfkitd-ar.conf" >/dev/null || fail_all "spfkitd -t (authres)"
"$bin" -f -c "$tmp/spfkitd-ar.conf" 2>"$tmp/spfkitd-ar.log" &
spfkitd2_pid=$!

# ---------------------------------------------------------------- Postfix
etc=$tmp/etc
mkdir -p "$etc" "$tmp/queue" "$tmp/data" "$tmp/mail"
chown postfix "$tmp/data"
chown nobody "$tmp/mail"
nobody_uid=$(id -u nobody) nobody_gid=$(id -g nobody)
cat >"$etc/main.cf" <<CONF
compatibility_level = 3.6
queue_directory = $tmp/queue
data_directory = $tmp/data
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
shlib_directory = /usr/lib/postfix
meta_directory = $etc
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.test.example
mydomain = test.example
myorigin = test.example
mydestination =
relay_domains =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtp_dns_support_level = disabled
smtpd_authorized_xclient_hosts = 127.0.0.0/8
smtpd_recipient_restrictions = check_policy_service inet:127.0.0.1:$policy_port, reject_unauth_destination
smtpd_policy_service_timeout = 30s
# A milter that fails must show in the tests, not pass as acceptance (in
# production, README.md recommends accept).
milter_default_action = tempfail
milter_protocol = 6
virtual_mailbox_domains = test.example
virtual_mailbox_base = $tmp/mail
virtual_mailbox_maps = static:inbox
virtual_minimum_uid = 1
virtual_uid_maps = static:$nobody_uid
virtual_gid_maps = static:$nobody_gid
maillog_file_prefixes = $tmp
maillog_file = $tmp/postfix.log
alias_maps =
alias_database =
biff = no
# SRS story: the alias, and every remote domain relayed to the sink.
virtual_alias_maps = texthash:$etc/virtual
relayhost = [127.0.0.1]:$sink_port
smtp_tls_security_level = none
# A delivery deferred for a moment (a busy machine, a mailbox lock) is
# retried at once, not after Postfix's default five minutes.
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
CONF
printf 'fwd@test.example someone@remote.example\n' >"$etc/virtual"
# Every service unchrooted: the queue is not laid out for a chroot.
cat >"$etc/master.cf" <<CONF
127.0.0.1:$smtp_port inet n - n - - smtpd
127.0.0.1:$spawn_port inet n - n - - smtpd
  -o smtpd_recipient_restrictions=check_policy_service,unix:private/spfkitd,reject_unauth_destination
127.0.0.1:$msmtp_port inet n - n - - smtpd
  -o smtpd_recipient_restrictions=reject_unauth_destination
  -o smtpd_milters=inet:127.0.0.1:$milter_port
127.0.0.1:$arsmtp_port inet n - n - - smtpd
  -o smtpd_recipient_restrictions=reject_unauth_destination
  -o smtpd_milters=inet:127.0.0.1:$milter2_port
127.0.0.1:$srssmtp_port inet n - n - - smtpd
  -o cleanup_service_name=srscleanup
srscleanup unix n       -       n       -       0       cleanup
  -o sender_canonical_maps=socketmap:inet:127.0.0.1:$srs_port:forward
  -o sender_canonical_classes=envelope_sender
  -o recipient_canonical_maps=socketmap:inet:127.0.0.1:$srs_port:reverse
  -o recipient_canonical_classes=envelope_recipient,header_recipient
127.0.0.1:$srsmilter_port inet n - n - - smtpd
  -o smtpd_recipient_restrictions=permit_mynetworks,reject_unauth_destination
  -o smtpd_milters=inet:127.0.0.1:$milter_port
spfkitd   unix  -       n       n       -       0       spawn
  user=nobody argv=$spawn_bin --stdio -c $tmp/spfkitd-spawn.conf
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
CONF
cp /etc/postfix/postfix-files "$etc/" 2>/dev/null
[ -d /etc/postfix/postfix-files.d ] && cp -r /etc/postfix/postfix-files.d "$etc/"
# Queue directories with their owners and modes (postfix-files).
script -qc "postfix -c $etc set-permissions" /dev/null >"$tmp/setperm.log" 2>&1 || true
script -qec "postfix -c $etc check" /dev/null >"$tmp/check.log" 2>&1 || { cat "$tmp/setperm.log" "$tmp/check.log"; fail_all "postfix check"; }
# The master in the foreground (-d) as our child, stopped by its PID.
/usr/lib/postfix/sbin/master -c "$etc" -d >"$tmp/master.log" 2>&1 &
master_pid=$!

ready=false
for _ in $(seq 100); do
	if "$PY" -c "import socket,sys; socket.create_connection(('127.0.0.1',$smtp_port),1).close()" 2>/dev/null &&
	   "$PY" -c "import socket,sys; socket.create_connection(('127.0.0.1',$spawn_port),1).close()" 2>/dev/null &&
	   "$PY" -c "import socket,sys; socket.create_connection(('127.0.0.1',$policy_port),1).close()" 2>/dev/null &&
	   "$PY" -c "import socket,sys; socket.create_connection(('127.0.0.1',$msmtp_port),1).close()" 2>/dev/null &&
	   "$PY" -c "import socket,sys; socket.create_connection(('127.0.0.1',$arsmtp_port),1).close()" 2>/dev/null &&
	   "$PY" -c "import socket,sys; socket.create_connection(('127.0.0.1',$milter_port),1).close()" 2>/dev/null &&
	   "$PY" -c "import socket,sys; socket.create_connection(('127.0.0.1',$milter2_port),1).close()" 2>/dev/null &&
	   "$PY" -c "import socket,sys; socket.create_connection(('127.0.0.1',$srssmtp_port),1).close()" 2>/dev/null &&
	   "$PY" -c "import socket,sys; socket.create_connection(('127.0.0.1',$srs_port),1).close()" 2>/dev/null &&
	   "$PY" -c "import socket,sys; socket.create_connection(('127.0.0.1',$srsmilter_port),1).close()" 2>/dev/null; then
		ready=true; break
	fi
	sleep 0.1
done
if ! $ready; then
	cat "$tmp/master.log" "$tmp/postfix.log" "$tmp/spfkitd.log" "$tmp/spfkitd-ar.log" 2>/dev/null | tail -n 30
	fail_all "postfix or spfkitd did not start"
fi

"$PY" tests/postfix/client.py "$smtp_port" "$tmp/mail/inbox" "inet-" >"$tmp/client1.out" 2>&1
rc1=$?
"$PY" tests/postfix/client.py "$spawn_port" "$tmp/mail/inbox" "spawn-" >"$tmp/client2.out" 2>&1
rc2=$?
"$PY" tests/postfix/client.py "$msmtp_port" "$tmp/mail/inbox" "milter-" milter >"$tmp/client3.out" 2>&1
rc3=$?
"$PY" tests/postfix/client.py "$arsmtp_port" "$tmp/mail/inbox" "milter-ar-" milter-ar >"$tmp/client4.out" 2>&1
rc4=$?
"$PY" tests/postfix/srs.py "$srssmtp_port" "$sink_port" "$root/$build/src/spfkit/spfkit" "$dns_port" "$tmp/srs.secrets" "srs-" >"$tmp/client5.out" 2>"$tmp/srs.err"
rc5=$?
"$PY" tests/postfix/srs.py "$srsmilter_port" "$sink_port" "$root/$build/src/spfkit/spfkit" "$dns_port" "$tmp/srs.secrets" "srs-milter-" milter >"$tmp/client6.out" 2>"$tmp/srs-milter.err"
rc6=$?
outs=("$tmp/client1.out" "$tmp/client2.out" "$tmp/client3.out" "$tmp/client4.out" "$tmp/client5.out" "$tmp/client6.out")
grep -hvE '^[0-9]+ passed, [0-9]+ failed' "${outs[@]}"
p=0 f=0
for out in "${outs[@]}"; do
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1)
	if [ -z "$line" ]; then f=$((f + 1)); continue; fi
	p=$((p + $(echo "$line" | cut -d' ' -f1))); f=$((f + $(echo "$line" | cut -d' ' -f3)))
done
rc=0
for r in "$rc1" "$rc2" "$rc3" "$rc4" "$rc5" "$rc6"; do [ "$r" -ne 0 ] && rc=1; done
# The daemons' logs: no sanitizer report, and the milter decided.
if grep -qE 'Sanitizer|runtime error' "$tmp/spfkitd.log" "$tmp/spfkitd-ar.log"; then
	echo "FAIL sanitizer report in a spfkitd log"; rc=1; f=$((f + 1))
else
	p=$((p + 1))
fi
if grep -q 'via=milter' "$tmp/spfkitd.log" && grep -q 'via=milter' "$tmp/spfkitd-ar.log"; then
	p=$((p + 1))
else
	echo "FAIL no milter decision in the spfkitd logs"; rc=1; f=$((f + 1))
fi
if [ "$rc" -ne 0 ]; then
	echo "--- postfix log: problems"
	grep -E 'status=(deferred|bounced)|warning:|fatal:|panic:|error:' "$tmp/postfix.log" 2>/dev/null | tail -n 20
	echo "--- postfix log"; tail -n 30 "$tmp/postfix.log" 2>/dev/null
	echo "--- spfkitd log"; tail -n 30 "$tmp/spfkitd.log"
	echo "--- spfkitd (authres) log"; tail -n 30 "$tmp/spfkitd-ar.log"
	[ "$f" -eq 0 ] && f=1
fi
echo "$p passed, $f failed"
exit "$rc"
