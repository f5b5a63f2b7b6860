"""Network faults for the faults suite: nftables rules inside the test's own network namespace.

Only call these after gwtest.enter_netns(): the rules then live in the test's private,
loopback-only namespace and vanish with it. The kernel here has no tc qdiscs (no netem), so
outages, random loss and thin links are nftables rules on the output hook.
"""

import subprocess

TABLE = 'roomcast_faults'


def _nft(*args):
    subprocess.run(['nft', *args], check=True)


def _ensure_chain():
    _nft('add', 'table', 'inet', TABLE)
    _nft('add', 'chain', 'inet', TABLE, 'out', '{ type filter hook output priority 0; }')


def clear():
    """Removes every fault: traffic flows again."""
    subprocess.run(['nft', 'delete', 'table', 'inet', TABLE],
                   stderr=subprocess.DEVNULL, check=False)


def outage():
    """Drops every UDP packet (media and ICE checks); TCP (signaling) keeps working."""
    clear()
    _ensure_chain()
    _nft('add', 'rule', 'inet', TABLE, 'out', 'meta', 'l4proto', 'udp', 'drop')


def loss(percent):
    """Drops percent % of UDP packets at random."""
    clear()
    _ensure_chain()
    _nft('add', 'rule', 'inet', TABLE, 'out', 'meta', 'l4proto', 'udp',
         'numgen', 'random', 'mod', '100', '<', str(int(percent)), 'drop')


def rate_cap(kbytes_per_second):
    """Drops UDP beyond kbytes_per_second (a thin link)."""
    clear()
    _ensure_chain()
    _nft('add', 'rule', 'inet', TABLE, 'out', 'meta', 'l4proto', 'udp',
         'limit', 'rate', 'over', f'{int(kbytes_per_second)}', 'kbytes/second', 'drop')


def tcp_port_outage(port):
    """Drops TCP to and from port (e.g. the room server's) on loopback."""
    _ensure_chain()
    _nft('add', 'rule', 'inet', TABLE, 'out', 'tcp', 'dport', str(int(port)), 'drop')
    _nft('add', 'rule', 'inet', TABLE, 'out', 'tcp', 'sport', str(int(port)), 'drop')
