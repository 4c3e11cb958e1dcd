#!/usr/bin/env bash
# A single-node Ceph RGW on 127.0.0.1 for the integration tests (recipe: shared/reference/tooling.md 4f).
#   scripts/ceph-rgw.sh start DIR PORT   installs Ceph from Debian if missing, starts mon+osd+rgw (up to 3
#                                        attempts), creates a user
#   scripts/ceph-rgw.sh stop DIR
# Credentials: TESTACCESSKEY / TESTSECRETKEY. SSE-KMS uses the "testing" backend with key id testkey-1.
set -euo pipefail
trap 'echo "ceph-rgw.sh: failed at line $LINENO: $BASH_COMMAND" >&2' ERR
cmd=${1:?start|stop}; D=${2:?dir}; PORT=${3:-7480}

stop() {
  if compgen -G "$D/run/*.pid" > /dev/null; then
    pids=$(cat "$D"/run/*.pid 2>/dev/null || true)
    for pid in $pids; do kill "$pid" 2>/dev/null || true; done
    for _ in $(seq 1 20); do
      alive=0; for pid in $pids; do kill -0 "$pid" 2>/dev/null && alive=1; done
      [ "$alive" = 0 ] && return 0; sleep 0.5
    done
    # A monitor left running would answer the next cluster's OSD ("wrong fsid").
    for pid in $pids; do kill -9 "$pid" 2>/dev/null || true; done
    sleep 1
  fi
}

if [ "$cmd" = stop ]; then stop; exit 0; fi

if ! command -v radosgw > /dev/null; then
  echo "installing Ceph RGW from Debian packages" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq > /dev/null
  apt-get install -y -qq --no-install-recommends ceph-mon ceph-osd radosgw > /dev/null
fi

# The memstore OSD sometimes comes up with another fsid than the one its mkfs registered
# ("wrong fsid" from the monitor) and exits; a fresh cluster starts cleanly. Each attempt is
# its own process so that errexit holds inside it.
if [ "$cmd" = start ]; then
  for attempt in 1 2 3; do
    if bash "$0" start-once "$D" "$PORT" "$attempt"; then exit 0; fi
    echo "ceph-rgw.sh: attempt $attempt did not start: $(tail -n 3 "$D"/log/setup.log 2>/dev/null | tr '\n' ' ')" >&2
    stop
  done
  exit 1
fi
[ "$cmd" = start-once ] || { echo "ceph-rgw.sh: unknown command $cmd" >&2; exit 2; }

stop; rm -rf "$D"; mkdir -p "$D"/{run,log,mon,osd}
uuid() { node -e 'console.log(crypto.randomUUID())'; }
FSID=$(uuid)
# A monitor port of its own per attempt, so a monitor a failed attempt left cannot answer.
MONPORT=$((PORT + 100 + ${4:-1}))
cat > "$D/ceph.conf" <<CONF
[global]
fsid = $FSID
mon initial members = a
mon host = v1:127.0.0.1:$MONPORT
public network = 127.0.0.0/8
auth cluster required = none
auth service required = none
auth client required = none
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
mon allow pool size one = true
osd crush chooseleaf type = 0
run dir = $D/run
log file = $D/log/\$name.log
admin socket = $D/run/\$name.asok
pid file = $D/run/\$name.pid
mon data = $D/mon/\$cluster-\$id
osd data = $D/osd/\$cluster-\$id
ms bind ipv6 = false
ms bind msgr2 = false
[osd]
osd objectstore = memstore
memstore device bytes = 1073741824
[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:$PORT
rgw crypt require ssl = false
rgw crypt s3 kms backend = testing
rgw crypt s3 kms encryption keys = testkey-1=YmluCmJvb3N0CmJvb3N0LWJ1aWxkCmNlcGguY29uZgo=
CONF
C="-c $D/ceph.conf"
monmaptool --create --add a "v1:127.0.0.1:$MONPORT" --fsid "$FSID" "$D/monmap" >> "$D/log/setup.log"
ceph-mon $C --mkfs -i a --monmap "$D/monmap"
ceph-mon $C -i a
OSD_UUID=$(uuid)
ID=$(timeout 60 ceph $C osd new "$OSD_UUID")
mkdir -p "$D/osd/ceph-$ID"
ceph-osd $C -i "$ID" --mkfs --osd-uuid "$OSD_UUID" 2>> "$D/log/setup.log"
ceph-osd $C -i "$ID" 2>> "$D/log/setup.log"
radosgw $C -n client.rgw.a
for _ in $(seq 1 90); do curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break; sleep 1; done
timeout 60 radosgw-admin $C user create --uid test --display-name test --access-key TESTACCESSKEY --secret TESTSECRETKEY >> "$D/log/setup.log"
echo "rgw ready on http://127.0.0.1:$PORT" >&2
