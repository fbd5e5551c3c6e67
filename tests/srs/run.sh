#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# tests/srs/run.sh BUILD_DIR: SRS compatibility of `spfkit srs` with
# postsrsd (Debian's postsrsd 1.10, libsrs2 inside) holding the same
# secrets. Runs private postsrsd instances in the foreground on loopback
# ports chosen here, speaks Postfix's TCP table protocol to them
# ("get ADDR" -> "200 ADDR" / "500 WHY"), and checks that
#   - for the same time both forward every address to the same result
#     (SRS0, SRS1 of SRS0 and of SRS1, each separator, hash length 8),
#   - we reverse theirs and they reverse ours, also lower-cased,
#   - both refuse forged, stale and future addresses, and both leave
#     local and already rewritten senders alone,
#   - rotation works across the two: the first secret signs, all verify.
# First the command alone (exit statuses, messages, JSON, batch), which
# runs without postsrsd too. Stops every postsrsd by PID. Ends with
# "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.."

build=${1:-build}
spfkit=$build/src/spfkit/spfkit
passed=0 failed=0

if [ ! -x "$spfkit" ]; then
	echo "FAIL srs: no $spfkit (build first)"
	echo "0 passed, 1 failed"
	exit 1
fi

tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }
# check WHAT GOT WANT
check() {
	if [ "$2" = "$3" ]; then pass; else fail "$1: got '$2', want '$3'"; fi
}

# ---------------------------------------------------------------- the CLI
# Exit statuses and messages, without postsrsd.
k="spfkit-test-secret-0123456789ab"
printf '%s\n' "$k" >"$tmp/k1"
: >"$tmp/empty"
printf 'short\n' >"$tmp/short"
printf '# only a comment\n\n' >"$tmp/comments"
printf '%s\n%s\n' "$k" "$(printf 'x%.0s' $(seq 70))" >"$tmp/long"
# expect STATUS WANTED-STDERR-PART ARGS...
expect() {
	local want=$1 msg=$2
	shift 2
	"$spfkit" srs "$@" >"$tmp/out" 2>"$tmp/err"
	local rc=$?
	check "exit of srs $*" "$rc" "$want"
	if [ -n "$msg" ] && ! grep -qF -- "$msg" "$tmp/err"; then
		fail "srs $*: stderr lacks '$msg': $(cat "$tmp/err")"
	elif [ "$(wc -l <"$tmp/err")" -gt 1 ]; then
		fail "srs $*: more than one line on stderr"
	else
		pass
	fi
}
T=1795468378 # postsrsd made these at this time with secret $k
F=(--domain fwd.example --secrets "$tmp/k1" --time "$T")
expect 0 "" forward user@orig.example "${F[@]}"
check "forward output" "$(cat "$tmp/out")" "SRS0=n2ew=JM=orig.example=user@fwd.example"
expect 0 "" reverse SRS0=n2ew=JM=orig.example=user@fwd.example --secrets "$tmp/k1" --time "$T"
check "reverse output" "$(cat "$tmp/out")" "user@orig.example"
expect 0 "" reverse SRS1=84R8=fwd1.example==abcd=AB=orig.example=user@fwd.example --secrets "$tmp/k1"
check "reverse SRS1 output" "$(cat "$tmp/out")" "SRS0=abcd=AB=orig.example=user@fwd1.example"
expect 0 "not rewritten: the sender is in the forwarding domain" forward user@FWD.example "${F[@]}"
check "local output" "$(cat "$tmp/out")" "user@FWD.example"
expect 1 "(bad-hash)" reverse SRS0=n2eX=JM=orig.example=user@fwd.example --secrets "$tmp/k1" --time "$T"
expect 1 "(expired)" reverse SRS0=n2ew=JM=orig.example=user@fwd.example --secrets "$tmp/k1" --time $((T + 22 * 86400))
expect 1 "(future)" reverse SRS0=n2ew=JM=orig.example=user@fwd.example --secrets "$tmp/k1" --time $((T - 86400))
expect 1 "(not-srs)" reverse user@orig.example --secrets "$tmp/k1"
expect 1 "(malformed)" reverse SRS0=n2ew=JM@fwd.example --secrets "$tmp/k1"
expect 1 "(bad-address)" forward user "${F[@]}"
expect 1 "(too-long)" forward "$(printf 'u%.0s' $(seq 60))@orig.example" "${F[@]}"
expect 66 "cannot open" forward a@b.example --domain f.example --secrets "$tmp/none"
expect 65 "no secret" forward a@b.example --domain f.example --secrets "$tmp/empty"
expect 65 "no secret" forward a@b.example --domain f.example --secrets "$tmp/comments"
expect 65 "line 1: the secret is too short" forward a@b.example --domain f.example --secrets "$tmp/short"
expect 65 "line 2: the secret is too long" forward a@b.example --domain f.example --secrets "$tmp/long"
expect 64 "--secrets FILE is required" forward a@b.example --domain f.example
expect 64 "forward needs --domain" forward a@b.example --secrets "$tmp/k1"
expect 64 "--domain is for forward only" reverse a@b.example --secrets "$tmp/k1" --domain f.example
expect 64 "not a usable domain" forward a@b.example --domain 'f..example' --secrets "$tmp/k1"
expect 64 "--separator" forward a@b.example "${F[@]}" --separator x
expect 64 "--max-age" forward a@b.example "${F[@]}" --max-age 1023
expect 64 "--hash-length" forward a@b.example "${F[@]}" --hash-length 3
expect 64 "--time" forward a@b.example "${F[@]}" --time -1
expect 64 "unknown option" forward a@b.example "${F[@]}" --bogus
expect 64 "unknown action" sideways a@b.example "${F[@]}"
expect 64 "give one address" forward "${F[@]}"
# `srs secret`: 32 base64 characters of 24 random octets, as postsrsd's
# package makes them; a new file of mode 0600, never an existing one, never
# through a symlink. (postsrsd itself uses one below.)
one=$("$spfkit" srs secret) && two=$("$spfkit" srs secret)
check "secret: exit" "$?" 0
[[ $one =~ ^[A-Za-z0-9+/]{32}$ ]] && pass || fail "secret: '$one' is not 32 base64 characters"
[ "$one" != "$two" ] && pass || fail "secret: two runs gave the same secret"
expect 0 "" secret --output "$tmp/gen"
check "secret --output: mode" "$(stat -c %a "$tmp/gen")" 600
check "secret --output: prints nothing" "$(cat "$tmp/out")" ""
grep -qE '^[A-Za-z0-9+/]{32}$' "$tmp/gen" && pass || fail "secret --output: $(cat "$tmp/gen")"
cp "$tmp/gen" "$tmp/gen.before"
expect 64 "not replaced" secret --output "$tmp/gen"
cmp -s "$tmp/gen" "$tmp/gen.before" && pass || fail "secret --output replaced an existing file"
echo "keep me" >"$tmp/target"
ln -s "$tmp/target" "$tmp/link"
expect 64 "" secret --output "$tmp/link"
check "secret --output follows no symlink" "$(cat "$tmp/target")" "keep me"
expect 64 "secret takes --output FILE only" secret --secrets "$tmp/k1"
expect 64 "--output is for secret only" forward a@b.example "${F[@]}" --output "$tmp/x"
expect 0 "" forward a@b.example --domain f.example --secrets "$tmp/gen"

# JSON and batch: one line per input line, in order, refusals in place.
printf 'user@orig.example\nnoat\r\nuser@fwd.example\n' |
	"$spfkit" srs forward --batch "${F[@]}" >"$tmp/out"
check "batch exit with a refusal" "$?" 1
check "batch text" "$(cat "$tmp/out")" "SRS0=n2ew=JM=orig.example=user@fwd.example
error: line 2: bad-address: not a usable address (no '@', an empty local part or domain, a control character, or '=' in the domain)
user@fwd.example"
printf 'SRS0=n2ew=JM=orig.example=user@fwd.example\nSRS0=n2ew=JM=orig.example=us\001er@x\n' |
	"$spfkit" srs reverse --batch --secrets "$tmp/k1" --time "$T" --format json >"$tmp/out"
check "batch json exit" "$?" 1
check "batch json" "$(cat "$tmp/out")" '{"input":"SRS0=n2ew=JM=orig.example=user@fwd.example","output":"user@orig.example","rewritten":true,"reason":"ok","line":1}
{"input":"SRS0=n2ew=JM=orig.example=us\u0001er@x","output":null,"rewritten":false,"reason":"malformed","message":"an SRS address whose fields do not parse (hash, timestamp, domain, local part)","line":2}'
out=$("$spfkit" srs forward SRS0=n2ew=JM=orig.example=user@fwd.example --domain other.example --secrets "$tmp/k1" --time "$T" --format json)
check "json already" "$out" '{"input":"SRS0=n2ew=JM=orig.example=user@fwd.example","output":"SRS0=n2ew=JM=orig.example=user@fwd.example","rewritten":false,"reason":"already-srs","message":"the sender is already a valid SRS address of these secrets; not rewritten"}'

# ---------------------------------------------------------------- postsrsd
if ! command -v postsrsd >/dev/null 2>&1; then
	echo "srs: postsrsd is not installed (scripts/deps.sh installs it); its part skipped"
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
fi

# A TCP port free on 127.0.0.1 now, none handed out before.
used=" "
free_port() {
	local p
	while :; do
		p=$(python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
		case $used in *" $p "*) continue ;; esac
		used="$used$p "
		echo "$p"
		return
	done
}

# start NAME SECRETS_FILE [postsrsd options]: a postsrsd for fwd.example;
# sets port_fwd[NAME], port_rev[NAME].
declare -A port_fwd port_rev
start() {
	local name=$1 secrets=$2
	shift 2
	local f r
	f=$(free_port)
	r=$(free_port)
	postsrsd -f "$f" -r "$r" -s "$secrets" -d fwd.example -l 127.0.0.1 -4 \
		-t 10 "$@" >"$tmp/$name.log" 2>&1 &
	pids+=($!)
	port_fwd[$name]=$f
	port_rev[$name]=$r
	for _ in $(seq 50); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$r") 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	fail "postsrsd $name did not start: $(head -c 300 "$tmp/$name.log")"
	return 1
}

# ask PORT ADDR: postsrsd's answer line.
ask() {
	local fd line=""
	exec {fd}<>"/dev/tcp/127.0.0.1/$1" || { echo "(no connection)"; return; }
	printf 'get %s\n' "$2" >&"$fd"
	IFS= read -r -t 5 line <&"$fd"
	exec {fd}>&-
	printf '%s\n' "${line%$'\r'}"
}

day() { echo $(($1 / 86400)); }

# Secrets as postsrsd's Debian package makes them (32 base64 octets).
s1=$(head -c 24 /dev/urandom | base64)
# s2 is spfkit's own: postsrsd must take what `spfkit srs secret` makes.
"$spfkit" srs secret --output "$tmp/s2gen" || fail "srs secret --output"
s2=$(cat "$tmp/s2gen")
printf '%s\n' "$s1" >"$tmp/s1"
printf '%s\n%s\n' "$s2" "$s1" >"$tmp/s21" # s2 signs, s1 verifies
printf '# rotated\n%s\n\n%s\n' "$s1" "$s2" >"$tmp/s12"

addrs=(
	"user@orig.example"
	"First.Last+tag@Sub.Orig.Example"
	"x=y@orig.example"
	"u@[192.0.2.1]"
	"SRS0=abcd=AB=orig.example=user@fwd1.example"
	"SRS0+wxyz=ZZ=orig.example=a=b@fwd1.example"
	"srs0-QQQQ=77=orig.example=user@FWD1.example"
	"SRS1=wxyz=fwd1.example==abcd=AB=orig.example=user@fwd2.example"
	"SRS1+qrst=fwd1.example=+wxyz=ZZ=orig.example=a=b@fwd2.example"
)

# forward_both INSTANCE ADDR [spfkit options]: both forward at the same
# day; prints "theirs<TAB>ours<TAB>now".
forward_both() {
	local inst=$1 a=$2
	shift 2
	local t1 t2 theirs ours
	for _ in 1 2; do
		t1=$(date +%s)
		theirs=$(ask "${port_fwd[$inst]}" "$a")
		t2=$(date +%s)
		[ "$(day "$t1")" = "$(day "$t2")" ] && break
	done
	ours=$("$spfkit" srs forward "$a" --domain fwd.example --time "$t1" "$@" 2>>"$tmp/stderr.log")
	printf '%s\t%s\t%s\n' "$theirs" "$ours" "$t1"
}

for sep in '=' '+' '-'; do
	start "sep$sep" "$tmp/s1" -a "$sep" || continue
	inst="sep$sep"
	for a in "${addrs[@]}"; do
		IFS=$'\t' read -r theirs ours now < <(forward_both "$inst" "$a" \
			--secrets "$tmp/s1" --separator "$sep")
		check "forward [$sep] $a" "$theirs" "200 $ours"
		case $ours in SRS0"$sep"* | SRS1"$sep"*) pass ;; *) fail "forward [$sep] $a: '$ours' is no SRS address" ;; esac
		# They reverse ours; we reverse theirs; both give the same.
		mine=$("$spfkit" srs reverse "$ours" --secrets "$tmp/s1" --time "$now")
		check "they reverse ours [$sep] $a" "$(ask "${port_rev[$inst]}" "$ours")" "200 $mine"
		check "we reverse theirs [$sep] $a" \
			"$("$spfkit" srs reverse "${theirs#200 }" --secrets "$tmp/s1")" "$mine"
		case ${a:0:4} in
		SRS0 | srs0) check "SRS1 reverses to the SRS0 address [$sep]" "$mine" "SRS0${a:4}" ;;
		SRS1 | srs1) ;;
		*) check "SRS0 reverses to the sender [$sep]" "$mine" "$a" ;;
		esac
		# Lower-cased (some MTAs fold local parts): both still agree.
		lower=$(printf '%s' "$ours" | tr '[:upper:]' '[:lower:]')
		want=$(ask "${port_rev[$inst]}" "$lower")
		case $want in 200\ *) pass ;; *) fail "they reverse lower-cased $lower: $want" ;; esac
		check "we reverse lower-cased [$sep] $lower" \
			"$("$spfkit" srs reverse "$lower" --secrets "$tmp/s1")" "${want#200 }"
		# A forged hash: both refuse.
		# (hashes compare case-insensitively: change the letter)
		h=${ours:5:1}
		case $h in [aA]) f=B ;; *) f=A ;; esac
		forged="${ours:0:5}$f${ours:6}"
		case $(ask "${port_rev[$inst]}" "$forged") in 500\ *) pass ;; *) fail "they reverse forged $forged" ;; esac
		out=$("$spfkit" srs reverse "$forged" --secrets "$tmp/s1" --format json)
		check "we refuse forged $forged (exit)" "$?" 1
		case $out in *'"reason":"bad-hash"'*) pass ;; *) fail "we refuse forged: $out" ;; esac
	done

	# The same addresses in one batch.
	now=$(date +%s)
	printf '%s\n' "${addrs[@]}" >"$tmp/batch.in"
	"$spfkit" srs forward --batch --domain fwd.example --secrets "$tmp/s1" \
		--separator "$sep" --time "$now" <"$tmp/batch.in" >"$tmp/batch.out"
	check "batch exit [$sep]" "$?" 0
	i=0
	while IFS= read -r line; do
		check "they reverse batch line $((i + 1)) [$sep]" \
			"$(ask "${port_rev[$inst]}" "$line")" \
			"200 $("$spfkit" srs reverse "$line" --secrets "$tmp/s1")"
		i=$((i + 1))
	done <"$tmp/batch.out"
	check "batch lines [$sep]" "$i" "${#addrs[@]}"
done

inst='sep='
# A sender in the forwarding domain: both leave it alone.
a="user@FWD.example"
IFS=$'\t' read -r theirs ours now < <(forward_both "$inst" "$a" --secrets "$tmp/s1")
check "local domain" "$theirs" "200 $a"
check "local domain, ours" "$ours" "$a"
# Already ours: postsrsd "500 Already rewritten", we leave it too.
ours=$("$spfkit" srs forward user@orig.example --domain fwd.example --secrets "$tmp/s1")
case $(ask "${port_fwd[$inst]}" "$ours") in "500 Already rewritten") pass ;; *) fail "they rewrite ours again" ;; esac
out=$("$spfkit" srs forward "$ours" --domain other.example --secrets "$tmp/s1" --format json)
case $out in *'"output":"'"$ours"'"'*'"reason":"already-srs"'*) pass ;; *) fail "we rewrite ours again: $out" ;; esac
# Stale and future timestamps: both refuse.
now=$(date +%s)
for shift in -$((30 * 86400)) -$((22 * 86400)) $((2 * 86400)); do
	old=$("$spfkit" srs forward user@orig.example --domain fwd.example --secrets "$tmp/s1" --time $((now + shift)))
	case $(ask "${port_rev[$inst]}" "$old") in 500\ *) pass ;; *) fail "they reverse $old made at now$shift" ;; esac
	out=$("$spfkit" srs reverse "$old" --secrets "$tmp/s1" --format json --time "$now")
	check "we refuse $old made at now$shift (exit)" "$?" 1
	case $shift in -*) want=expired ;; *) want=future ;; esac
	case $out in *"\"reason\":\"$want\""*) pass ;; *) fail "we refuse $old: $out" ;; esac
done
# 21 days old: both still reverse (libsrs2's maximum age).
old=$("$spfkit" srs forward user@orig.example --domain fwd.example --secrets "$tmp/s1" --time $((now - 21 * 86400)))
check "they reverse 21 days old" "$(ask "${port_rev[$inst]}" "$old")" "200 user@orig.example"
check "we reverse 21 days old" "$("$spfkit" srs reverse "$old" --secrets "$tmp/s1" --time "$now")" "user@orig.example"

# Rotation: postsrsd signs with s2 and verifies s1; we sign with s1.
start rot "$tmp/s21" && {
	ours=$("$spfkit" srs forward user@orig.example --domain fwd.example --secrets "$tmp/s1")
	check "they verify our s1 as their second secret" "$(ask "${port_rev[rot]}" "$ours")" "200 user@orig.example"
	theirs=$(ask "${port_fwd[rot]}" user@orig.example)
	check "we verify their s2 as our second secret" \
		"$("$spfkit" srs reverse "${theirs#200 }" --secrets "$tmp/s12")" "user@orig.example"
	"$spfkit" srs reverse "${theirs#200 }" --secrets "$tmp/s1" >/dev/null 2>&1
	check "without s2 we refuse theirs (exit)" "$?" 1
	IFS=$'\t' read -r theirs ours now < <(forward_both rot "user@orig.example" --secrets "$tmp/s21")
	check "same file, same forward" "$theirs" "200 $ours"
}

# Hash length 8 (postsrsd -n 8 -N 8).
start h8 "$tmp/s1" -n 8 -N 8 && {
	for a in "${addrs[@]:0:2}" "${addrs[4]}" "${addrs[7]}"; do
		IFS=$'\t' read -r theirs ours now < <(forward_both h8 "$a" --secrets "$tmp/s1" --hash-length 8)
		check "forward -n 8 $a" "$theirs" "200 $ours"
		check "they reverse -n 8 $a" "$(ask "${port_rev[h8]}" "$ours")" \
			"200 $("$spfkit" srs reverse "$ours" --secrets "$tmp/s1" --hash-length 8)"
	done
}

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
