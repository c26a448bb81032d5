#!/bin/sh
# The reference simulator as a device on a bench, for `vitalseal conform` (conform/README.md): a
# template for the script a vendor writes around a jig (a relay on the power line, a programming
# tool for the device's NVM). It gives the kit the two hooks its disruptive cases need:
#
#   sim-bench.sh run <dir> <vitalseal sim flags…>   supervise the device: power it on, and on again
#                                                   after every power cut, from the NVM in <dir>/nvm
#   sim-bench.sh reboot <dir>                       --reboot-cmd: a power cut (kill -9); returns once
#                                                   the device is powered on again
#   sim-bench.sh rotate <dir> <device id>           --rotate-cmd (AUTH-06, docs/PROTOCOL.md §3.6):
#                                                   power off, `vitalseal sim --rotate-identity` on
#                                                   its NVM, power on; exits with the tool's status
#   sim-bench.sh stop <dir>                         power off for good; `run` returns
#
# Example (a socat pty pair stands in for the USB serial line):
#   socat pty,raw,echo=0,link=/tmp/b/kit pty,raw,echo=0,link=/tmp/b/dev &
#   sh conform/examples/sim-bench.sh run /tmp/b --device oxi-01 --authority-key <hex> --serial /tmp/b/dev \
#       --period 300ms --ack-timeout 1s --duration 2h --no-progress &
#   vitalseal conform --serial /tmp/b/kit --device oxi-01 --authority-key kit.key \
#       --reboot-cmd "sh conform/examples/sim-bench.sh reboot /tmp/b" \
#       --rotate-cmd "sh conform/examples/sim-bench.sh rotate /tmp/b oxi-01"
#   sh conform/examples/sim-bench.sh stop /tmp/b
#
# The device process is a child of `run`'s shell, which reaps it: a power cut leaves no zombie
# holding the NVM lock. Every wait is bounded (WAIT_S, default 60 s). No secret is passed on a
# command line by this script (give the simulator --secret-file for MQTT); whoever can write to <dir>
# can make `reboot` kill the pid written there, so <dir> is the operator's (created 0700).
set -u
umask 077 # the bench directory (pid files, the rotation tool's output) is the operator's alone
HERE=$(cd "$(dirname "$0")" && pwd)
VITALSEAL=${VITALSEAL:-"node $HERE/../../bin/vitalseal.js"}
WAIT_S=${WAIT_S:-60}

die() {
  echo "sim-bench: $*" >&2
  exit 2
}

# waits (WAIT_S at most) until the command "$@" succeeds
wait_until() {
  n=0
  while ! "$@"; do
    n=$((n + 1))
    [ "$n" -gt $((WAIT_S * 20)) ] && return 1
    sleep 0.05
  done
}

device_pid() { cat "$DIR/device.pid" 2>/dev/null; }
powered_on_after() { p=$(device_pid) && [ -n "$p" ] && [ "$p" != "$1" ] && kill -0 "$p" 2>/dev/null; }
no_file() { [ ! -e "$1" ]; }

cmd=${1:-}
DIR=${2:-}
[ -n "$cmd" ] && [ -n "$DIR" ] || die "usage: sim-bench.sh run|reboot|rotate|stop <dir> …"

case "$cmd" in
run)
  shift 2
  mkdir -p "$DIR/nvm" || die "cannot create $DIR/nvm"
  rm -f "$DIR/stop" "$DIR/rotate" "$DIR/device.pid"
  while [ ! -e "$DIR/stop" ]; do
    if [ -e "$DIR/rotate" ]; then
      # the device is off: the vendor's NVM tool rotates its identity key (prints the new idk, never the secret)
      $VITALSEAL sim --device "$(cat "$DIR/rotate")" --nvm-dir "$DIR/nvm" --rotate-identity --json >"$DIR/rotated" 2>"$DIR/rotated.err"
      echo $? >"$DIR/rotate.rc"
      rm -f "$DIR/rotate"
    fi
    $VITALSEAL sim --nvm-dir "$DIR/nvm" "$@" &
    echo $! >"$DIR/device.pid"
    wait $!
  done
  rm -f "$DIR/device.pid"
  ;;
reboot)
  before=$(device_pid) || die "no device running in $DIR"
  kill -9 "$before" 2>/dev/null
  wait_until powered_on_after "$before" || die "the device did not come back within ${WAIT_S} s"
  ;;
rotate)
  dev=${3:-}
  [ -n "$dev" ] || die "usage: sim-bench.sh rotate <dir> <device id>"
  before=$(device_pid) || die "no device running in $DIR"
  rm -f "$DIR/rotate.rc"
  echo "$dev" >"$DIR/rotate"
  kill -9 "$before" 2>/dev/null
  wait_until no_file "$DIR/rotate" || die "the rotation did not run within ${WAIT_S} s"
  wait_until powered_on_after "$before" || die "the device did not come back within ${WAIT_S} s"
  rc=$(cat "$DIR/rotate.rc")
  [ "$rc" = 0 ] || {
    cat "$DIR/rotated.err" >&2
    exit "$rc"
  }
  ;;
stop)
  touch "$DIR/stop"
  p=$(device_pid) && kill -9 "$p" 2>/dev/null
  wait_until no_file "$DIR/device.pid" || die "the supervisor did not stop within ${WAIT_S} s"
  ;;
*) die "unknown command $cmd (run, reboot, rotate, stop)" ;;
esac
