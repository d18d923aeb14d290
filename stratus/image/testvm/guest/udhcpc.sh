#!/bin/sh
# udhcpc hook of the Stratus test guest: address, MTU (option 26), routes, resolv.conf.
# RFC 3442: when classless static routes (option 121) are present the router option is ignored.
# Writes /run/net.env (ADDR, ROUTER) for /init, which prints the STRATUS-TESTVM-IP marker.
set_routes() {
    if [ -n "$staticroutes" ]; then
        set -- $staticroutes
        while [ $# -ge 2 ]; do
            if [ "$2" = "0.0.0.0" ]; then
                ip route replace "$1" dev "$interface"
            else
                ip route replace "$1" via "$2" dev "$interface" onlink
            fi
            [ "$1" = "0.0.0.0/0" ] && [ "$2" != "0.0.0.0" ] && GW=$2
            shift 2
        done
    elif [ -n "$router" ]; then
        for r in $router; do
            ip route replace default via "$r" dev "$interface" onlink && GW=$r && break
        done
    fi
}

case "$1" in
    deconfig)
        ip addr flush dev "$interface"
        ip link set "$interface" up
        ;;
    bound|renew)
        [ -n "$mtu" ] && ip link set dev "$interface" mtu "$mtu"
        ip addr flush dev "$interface"
        ip addr add "$ip/${mask:-24}" dev "$interface"
        GW=
        set_routes
        : >/etc/resolv.conf
        [ -n "$domain" ] && echo "search $domain" >>/etc/resolv.conf
        for d in $dns; do echo "nameserver $d" >>/etc/resolv.conf; done
        printf 'ADDR=%s\nROUTER=%s\n' "$ip/${mask:-24}" "${GW:-${router%% *}}" >/run/net.env
        ;;
esac
exit 0
