#!/bin/busybox sh
# /init of the Stratus test guest (CirrOS-like, busybox only). Markers on the serial console are
# grepped by tests: keep the "STRATUS-TESTVM-*" lines stable.
/bin/busybox mkdir -p /proc /sys /dev /tmp /run /root /usr/bin /usr/sbin /var/log /www
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
exec </dev/console >/dev/console 2>&1

MD=http://169.254.169.254/latest

load_modules() {
    for m in $(cat /etc/modules.order); do
        insmod "/lib/modules/$m.ko" || echo "STRATUS-TESTVM-WARN insmod $m failed"
    done
}

wait_for_eth0() {
    n=0
    while [ ! -e /sys/class/net/eth0 ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
    [ -e /sys/class/net/eth0 ]
}

# DHCP: udhcpc runs the hook, which writes /run/net.env; -b keeps trying in the background.
bring_up_network() {
    ip link set lo up
    if ! wait_for_eth0; then
        echo "STRATUS-TESTVM-IP iface=eth0 failed"
        return 1
    fi
    ip link set eth0 up
    udhcpc -i eth0 -t 15 -T 2 -A 5 -b -p /run/udhcpc.eth0.pid -O mtu -O staticroutes \
        -x hostname:testvm -s /usr/share/udhcpc/default.script >/run/udhcpc.log 2>&1
    if [ ! -s /run/net.env ]; then
        echo "STRATUS-TESTVM-IP iface=eth0 failed"
        return 1
    fi
    . /run/net.env
    echo "STRATUS-TESTVM-IP iface=eth0 addr=$ADDR router=${ROUTER:-none} mtu=$(cat /sys/class/net/eth0/mtu)"
}

# md_get PATH FILE: one HTTP GET of the metadata service (busybox wget: never use -T, it segfaults).
md_get() {
    rm -f "$2"
    timeout 5 wget -q -O "$2" "$MD/$1" 2>/dev/null && [ -s "$2" ]
}

# The metadata proxy may come up after DHCP: retry for up to 60 s of uptime.
fetch_metadata() {
    mkdir -p /run/md
    deadline=$(($(cut -d. -f1 /proc/uptime) + 60))
    while ! md_get meta-data/instance-id /run/md/instance-id; do
        if [ "$(cut -d. -f1 /proc/uptime)" -ge "$deadline" ]; then
            echo "STRATUS-TESTVM-METADATA failed"
            return 1
        fi
        sleep 1
    done
    md_get meta-data/hostname /run/md/hostname || echo testvm >/run/md/hostname
    md_get meta-data/public-keys/0/openssh-key /run/md/openssh-key || rm -f /run/md/openssh-key
    md_get user-data /run/md/user-data || rm -f /run/md/user-data
    HOST=$(head -n1 /run/md/hostname)
    hostname "$HOST"
    echo "$HOST" >/etc/hostname
    if [ -s /run/md/openssh-key ]; then
        mkdir -p /root/.ssh && chmod 700 /root/.ssh
        cat /run/md/openssh-key >/root/.ssh/authorized_keys && chmod 600 /root/.ssh/authorized_keys
    fi
    echo "STRATUS-TESTVM-METADATA ok hostname=$HOST instance_id=$(head -n1 /run/md/instance-id)"
}

start_services() {
    echo "<html><body><h1>$(hostname)</h1><p>Stratus test VM</p></body></html>" >/www/index.html
    hostname >/www/hostname
    httpd -p 80 -h /www
    # echo responder on TCP 7: -ll keeps listening, -e runs cat per connection
    (nc -ll -p 7 -e /bin/cat </dev/null >/dev/null 2>&1 &)
}

run_user_data() {
    [ -s /run/md/user-data ] || return 0
    [ "$(head -c 2 /run/md/user-data)" = "#!" ] || return 0
    cp /run/md/user-data /run/user-data.script && chmod 700 /run/user-data.script
    /run/user-data.script
    echo "STRATUS-TESTVM-USERDATA rc=$?"
}

echo "STRATUS-TESTVM-BOOT kernel=$(uname -r) mem_kb=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)" \
    "cpus=$(grep -c '^processor' /proc/cpuinfo)"
load_modules
acpid -c /etc/acpi -a /etc/acpid.conf -l /var/log/acpid.log
hostname testvm
if bring_up_network; then
    fetch_metadata
fi
start_services
run_user_data
echo "STRATUS-TESTVM-READY"
while true; do setsid cttyhack sh -l; sleep 1; done
