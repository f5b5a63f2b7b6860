"""One test peer through one gap (a paused sender or a UDP outage), recorded by a running
gateway, which is then stopped: shared by the A/V-gap and the black-gap fault tests."""

import signal
import time

import netfault


def run_through_gap(h, gateway, port, room, name, codec, pattern, mode, gap_at, gap, after):
    """Test peer `name` sends `pattern` in `codec` for gap_at + gap + after seconds, with a gap
    of `gap` seconds at gap_at: `--pause-at/--pause-for` (mode 'pause') or every UDP packet
    dropped (mode 'outage'). Waits for it to leave, stops the gateway and checks both exit 0."""
    f = h.failures
    total = gap_at + gap + after
    argv = [h.bin('testpeer/roomcast-testpeer'), '--signaling-url', f'ws://127.0.0.1:{port}/ws',
            '--room', room, '--name', name, '--codec', codec, '--pattern', pattern,
            '--duration', f'{total:.0f}', '--ice-local-address', '127.0.0.1']
    if mode == 'pause':
        argv += ['--pause-at', str(gap_at), '--pause-for', str(gap)]
    peer = h.start(f'peer-{name}', argv)
    if mode == 'outage':
        h.wait_log(gateway, r'receiving video', 20)
        time.sleep(max(0.0, gap_at - (time.monotonic() - h.t0) + 1))
        h.say(f'outage: every UDP packet dropped for {gap:.1f} s')
        netfault.outage()
        time.sleep(gap)
        netfault.clear()
        h.say('outage over')
    f.check(h.wait_exit(peer, total + 30) == 0, 'the peer exited 0')
    h.wait_log(gateway, r'finishing participant', 15)
    time.sleep(0.5)
    h.kill_group(gateway, signal.SIGTERM)
    f.check(h.wait_exit(gateway, 20) == 0, 'gateway exits 0 on SIGTERM')
