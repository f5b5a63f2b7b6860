#!/usr/bin/env python3
"""Nothing but configured traffic: the real gateway and a test peer under strace, through a call
with a UDP outage, in a loopback-only namespace; every destination they send to is on loopback.

A recording server must never try to open ports on the host's router (libnice's UPnP sends SSDP
to 239.255.255.250 unless switched off), announce itself by mDNS (224.0.0.251) or ask a default
STUN server. The trace records every connect/sendto/sendmsg/sendmmsg of every thread; each
IPv4/IPv6 destination in it must be 127.0.0.0/8 or ::1. The check proves it saw the call's real
traffic (media and signaling on loopback), so an empty trace cannot pass.
"""

import ipaddress
import os
import re
import signal
import time

import gwtest
import netfault

ROOM = 'trace'
ADDRESS = re.compile(r'inet_addr\("([^"]+)"\)|inet_pton\(AF_INET6, "([^"]+)"')
CALL = re.compile(r'\b(connect|sendto|sendmsg|sendmmsg)\(')


def destinations(trace_text):
    """(syscall, address) for every IPv4/IPv6 address passed to a sending or connecting call."""
    found = []
    for line in trace_text.splitlines():
        call = CALL.search(line)
        if not call:
            continue
        for m in ADDRESS.finditer(line):
            found.append((call.group(1), m.group(1) or m.group(2)))
    return found


def is_loopback(address):
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def self_test(f):
    """The parser finds what a leak would look like (SSDP, mDNS, a DNS server)."""
    leaks = [
        '12 sendto(31, "M-SEARCH * HTTP/1.1", 120, 0, {sa_family=AF_INET, sin_port=htons(1900), '
        'sin_addr=inet_addr("239.255.255.250")}, 16) = 120',
        '12 sendmsg(9, {msg_name={sa_family=AF_INET6, sin6_port=htons(5353), sin6_flowinfo=htonl(0), '
        'inet_pton(AF_INET6, "ff02::fb", &sin6_addr), sin6_scope_id=0}, msg_namelen=28}, 0) = 40',
        '12 connect(7, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("192.0.2.53")}, 16) = 0',
    ]
    found = destinations('\n'.join(leaks))
    f.check([a for _, a in found] == ['239.255.255.250', 'ff02::fb', '192.0.2.53'],
            f'self-test: the parser reads every destination ({found})')
    f.check(not any(is_loopback(a) for _, a in found), 'self-test: none of them counts as loopback')
    f.check(is_loopback('127.0.0.1') and is_loopback('::1') and is_loopback('::ffff:127.0.0.1'),
            'self-test: 127.0.0.1, ::1 and ::ffff:127.0.0.1 are loopback')


def main():
    gwtest.enter_netns()
    with gwtest.Harness('faults-loopback-only', gwtest.build_dir_from_args()) as h:
        f = h.failures
        self_test(f)
        server, port = h.start_signal()
        gw_trace = os.path.join(h.dir, 'gateway.strace')
        peer_trace = os.path.join(h.dir, 'peer.strace')
        strace = ['strace', '-f', '-qq', '-e', 'trace=connect,sendto,sendmsg,sendmmsg', '-o']
        argv = strace + [gw_trace, h.bin('gateway/roomcast'),
                         '--signaling-url', f'ws://127.0.0.1:{port}/ws', '--room', ROOM,
                         '--recordings-dir', h.recordings, '--ice-local-address', '127.0.0.1',
                         '--pipelines-dir', os.path.join(h.source_dir, 'pipelines'),
                         '--pipeline', 'record-mkv', '--log-level', 'debug']
        gateway = h.start('gateway', argv)
        h.wait_log(gateway, r'joined as hidden member', 30)
        peer = h.start('peer-alice', strace + [peer_trace, h.bin('testpeer/roomcast-testpeer'),
                                               '--signaling-url', f'ws://127.0.0.1:{port}/ws',
                                               '--room', ROOM, '--name', 'alice', '--codec', 'vp8',
                                               '--duration', '14', '--ice-local-address', '127.0.0.1'])
        h.wait_log(gateway, r'first buffer|started output|recording', 40)
        time.sleep(4)
        h.say('outage: every UDP packet dropped for 3 s')
        netfault.outage()
        time.sleep(3)
        netfault.clear()
        h.say('outage over')
        f.check(h.wait_exit(peer, 60) == 0, 'the test peer ends its call and exits 0')
        time.sleep(1)
        h.kill_group(gateway, signal.SIGTERM)
        f.check(h.wait_exit(gateway, 20) == 0, 'the gateway exits 0 on SIGTERM')

        # The gateway only receives media: its own datagrams are ICE checks, keep-alives and RTCP
        # (about two a second); the test peer sends the media itself.
        for label, path, least in (('gateway', gw_trace, 10), ('test peer', peer_trace, 200)):
            with open(path, errors='replace') as t:
                text = t.read()
            found = destinations(text)
            outside = sorted({a for _, a in found if not is_loopback(a)})
            f.check(not outside, f'{label}: every destination is on loopback (outside: {outside})')
            udp_sends = sum(1 for c, a in found if c in ('sendto', 'sendmsg', 'sendmmsg') and is_loopback(a))
            f.check(udp_sends >= least,
                    f'{label}: the trace saw the call ({udp_sends} datagrams to loopback, {len(found)} in all)')
            h.say(f'{label}: {len(found)} addressed calls, destinations {sorted({a for _, a in found})}')

        mkvs = [x for x in os.listdir(h.session_dir(ROOM)) if x.endswith('.mkv')]
        f.check(len(mkvs) == 1, f'the call was recorded ({mkvs})')


if __name__ == '__main__':
    main()
