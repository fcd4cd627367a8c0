#!/usr/bin/env bash
# sluice keygen never overwrites a key pair or writes through a symbolic link unless
# --force (which replaces the link itself), and a secret key file others may read gets a
# warning where it is loaded (issue 14).
set -uo pipefail
sluice=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
cd "$work" || exit 1

"$sluice" keygen first >/dev/null || fail "the first keygen failed"
[ "$(stat -c %a first.key)" = 600 ] || fail "first.key has mode $(stat -c %a first.key)"
[ "$(stat -c %a first.pub)" = 644 ] || fail "first.pub has mode $(stat -c %a first.pub)"
before=$(cat first.key)
out=$("$sluice" keygen first 2>&1) && fail "a second keygen overwrote the pair: $out"
[[ "$out" == *"first.key exists: refusing to overwrite a key pair (--force replaces it)"* ]] || fail "said: $out"
[ "$(cat first.key)" = "$before" ] || fail "the refused keygen changed first.key"
# Only the public half in the way: still refused, and nothing written.
rm first.key
out=$("$sluice" keygen first 2>&1) && fail "keygen overwrote first.pub: $out"
[[ "$out" == *"first.pub exists"* ]] || fail "said: $out"
[ ! -e first.key ] || fail "a refused keygen left first.key behind"

# A symbolic link where the secret key goes: never written through.
echo "precious" > target
ln -s target linked.key
out=$("$sluice" keygen linked 2>&1) && fail "keygen wrote through a symbolic link: $out"
[[ "$out" == *"linked.key is a symbolic link: refusing to write a key through it"* ]] || fail "said: $out"
[ "$(cat target)" = precious ] || fail "the link's target changed"
"$sluice" keygen linked --force >/dev/null || fail "keygen --force failed"
[ "$(cat target)" = precious ] || fail "--force wrote through the link"
[ ! -L linked.key ] && [ -f linked.key ] || fail "--force did not replace the link with a file"
[ "$(stat -c %a linked.key)" = 600 ] || fail "linked.key has mode $(stat -c %a linked.key)"
"$sluice" keygen first --force >/dev/null || fail "keygen --force over a pair failed"
[ "$(cat first.key)" != "$before" ] || fail "--force did not write a new key"
# Never over a directory or a device, even with --force.
mkdir dir.key
out=$("$sluice" keygen dir --force 2>&1) && fail "keygen replaced a directory: $out"
[[ "$out" == *"dir.key exists and is not a regular file"* ]] || fail "said: $out"

# A secret key readable by others is used, with a warning naming the file and the mode.
chmod 644 first.key
out=$("$sluice" submit --health --endpoint tcp://127.0.0.1:9 --timeout-ms 100 --attempts 1 \
        --server-key first.pub --client-key first.key 2>&1)
[[ "$out" == *"warning: the secret key file first.key has mode 0644"* ]] || fail "no warning: $out"
chmod 600 first.key
out=$("$sluice" submit --health --endpoint tcp://127.0.0.1:9 --timeout-ms 100 --attempts 1 \
        --server-key first.pub --client-key first.key 2>&1)
[[ "$out" != *"warning"* ]] || fail "a 0600 key was warned about: $out"
echo "keygen is careful"
