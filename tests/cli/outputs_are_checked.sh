#!/usr/bin/env bash
# Output files are written whole or not at all, and only ever replace a regular file
# (issue 14: --dump-network to a full disk exited 0 with the data lost; gen-snapshot -o
# renamed over whatever the path was, a device node included).
set -uo pipefail
sluice=$1
example=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
cd "$work" || exit 1

# A write that fails (no file may grow: the file-size limit stands in for a full disk; the
# SIGXFSZ it raises is ignored, so write() returns EFBIG) is an error, and leaves nothing.
out=$(trap '' XFSZ; ulimit -f 0; "$sluice" allocate "$example" --dump-network net.min -q 2>&1 >/dev/null)
rc=$?
[ "$rc" -ne 0 ] || fail "--dump-network on a full disk exited 0: $out"
[[ "$out" == *"cannot write net.min"* ]] || fail "said: $out"
[ ! -e net.min ] && [ ! -e net.min.partial ] || fail "a failed --dump-network left a file behind"
echo "old snapshot" > kept.bin
out=$(trap '' XFSZ; ulimit -f 0; "$sluice" gen-snapshot --machines 5 --tasks 20 -o kept.bin 2>&1)
[ $? -ne 0 ] || fail "gen-snapshot on a full disk exited 0: $out"
[[ "$out" == *"cannot write kept.bin.partial"* ]] || fail "said: $out"
[ "$(cat kept.bin)" = "old snapshot" ] || fail "a failed gen-snapshot damaged the file it would replace"
[ ! -e kept.bin.partial ] || fail "a failed gen-snapshot left kept.bin.partial"

# Anything but a regular file is refused, never replaced or written through (a FIFO would
# also have blocked the old --dump-network forever: hence the timeouts).
mkfifo fifo.bin
echo "precious" > target
ln -s target link.bin
for path in fifo.bin link.bin; do
  out=$(timeout 10 "$sluice" gen-snapshot --machines 5 --tasks 20 -o "$path" 2>&1)
  rc=$?
  [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "gen-snapshot -o $path exited $rc: $out"
  [[ "$out" == *"$path exists and is not a regular file"* ]] || fail "gen-snapshot -o $path said: $out"
  out=$(timeout 10 "$sluice" allocate "$example" -q --dump-network "$path" 2>&1 >/dev/null)
  rc=$?
  [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "allocate --dump-network $path exited $rc: $out"
  [[ "$out" == *"$path is a "*": refusing to replace it"* ]] || fail "--dump-network $path said: $out"
  out=$(timeout 10 "$sluice" allocate "$example" -q -o "$path" 2>&1)
  rc=$?
  [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "allocate -o $path exited $rc: $out"
done
[ -p fifo.bin ] || fail "the FIFO was replaced"
[ -L link.bin ] && [ "$(cat target)" = precious ] || fail "the link or its target changed"
out=$(timeout 10 "$sluice" gen-snapshot --machines 5 --tasks 20 -o "$work" 2>&1)
[ $? -ne 0 ] || fail "gen-snapshot -o DIRECTORY: $out"

# A regular file is replaced, whole.
"$sluice" gen-snapshot --machines 5 --tasks 20 -o kept.bin >/dev/null || fail "gen-snapshot over a regular file failed"
"$sluice" inspect kept.bin >/dev/null || fail "the new kept.bin does not decode"
"$sluice" allocate "$example" -q --dump-network net.min -o out.json || fail "allocate to regular files failed"
grep -q '^p min' net.min || fail "net.min holds no network"
echo "outputs are checked"
