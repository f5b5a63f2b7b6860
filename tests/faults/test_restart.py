#!/usr/bin/env python3
"""kill -9 of the gateway mid-call, then the same command again: the recording continues.

Two test peers record into record-mkv; the gateway is killed with SIGKILL and restarted with
the same command line. Checked: one session folder and one manifest (session_start unchanged),
two parts per participant (the first marked interrupted, the second <id>-2.mkv), the crashed
presences closed, a gateway-restart gap per participant from about the kill to the new part's
start; every file decodes. Measured: time from the restart to media in the new parts.
"""

import os
import re
import signal
import time

import gwtest

ROOM = 'again'
# Restart -> first buffer of the new part: join, offer, ICE, first keyframe; generous under load.
MEDIA_BOUND_S = 20.0


def main():
    gwtest.enter_netns()
    with gwtest.Harness('faults-restart', gwtest.build_dir_from_args()) as h:
        f = h.failures
        server, port = h.start_signal()
        gateway = h.start_gateway(port, ROOM)
        h.start_testpeer(port, ROOM, 'alice', 'vp8')
        h.start_testpeer(port, ROOM, 'bob', 'vp8', pattern='ball')
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(re.findall(r'\.mkv started', h.log_text(gateway))) < 2:
            time.sleep(0.2)
        time.sleep(4)
        before = h.manifest(ROOM)
        h.kill_group(gateway, signal.SIGKILL)
        killed_at = time.time()
        h.wait_exit(gateway, 5)
        h.say('gateway killed')

        restarted_at = time.monotonic()
        gateway = h.start_gateway(port, ROOM)
        h.wait_log(gateway, r'continuing session', 5)
        started = h.wait_started(gateway, r'(\S+-2\.mkv)', 2, restarted_at, MEDIA_BOUND_S + 10)
        h.say(f'restart -> media in the new parts: {started}')
        f.check(len(started) == 2, f'both participants record a part 2 ({sorted(started)})')
        f.check(all(t <= MEDIA_BOUND_S for t in started.values()),
                f'within {MEDIA_BOUND_S} s of the restart ({[round(t, 2) for t in started.values()]})')
        time.sleep(4)
        h.kill_group(gateway, signal.SIGTERM)
        h.wait_exit(gateway, 30)

        session = h.session_dir(ROOM)  # raises unless exactly one session folder
        manifest = h.manifest(ROOM)
        f.check(manifest['session_start'] == before['session_start'],
                f'session clock unchanged ({manifest["session_start"]})')
        f.check(manifest['session_end'] is not None, 'the continued session ended cleanly')
        crash = killed_at - gwtest_session_start(manifest)
        by_peer = {}
        for x in manifest['files']:
            by_peer.setdefault(x['participant'], []).append(x)
        h.say(f'files: {[(x["participant"], x["path"], x["start"], x["duration"], x.get("interrupted")) for x in manifest["files"]]}')
        h.say(f'gaps: {manifest.get("gaps")}')
        f.check(len(by_peer) == 2 and all(len(v) == 2 for v in by_peer.values()),
                f'two parts per participant ({ {k: [x["path"] for x in v] for k, v in by_peer.items()} })')
        for peer, parts in by_peer.items():
            parts.sort(key=lambda x: x['start'])
            first, second = parts[0], parts[-1]
            f.check(first.get('interrupted') is True and first['finished'] is False,
                    f'{peer}: the crashed part is marked interrupted')
            f.check(second['path'] == first['path'].replace('.mkv', '-2.mkv') and second['finished'],
                    f'{peer}: the new part {second["path"]} is finished')
            gaps = [g for g in manifest.get('gaps', []) if g['participant'] == peer and g['cause'] == 'gateway-restart']
            if f.check(len(gaps) == 1, f'{peer}: one gateway-restart gap ({gaps})'):
                g = gaps[0]
                f.check(abs(g['start'] - crash) < 3.0 and abs(g['end'] - second['start']) < 0.01,
                        f'{peer}: gap {g["start"]}..{g["end"]} (killed at {crash:.2f}, part 2 at {second["start"]})')
        # The crashed run's presences are closed at its last known time; the second run's are
        # open until the session's end, as for any participant still there when it stops.
        presences = manifest['participants']
        first_run = [p for p in presences if p['joined'] < crash]
        f.check(len(presences) == 4 and len(first_run) == 2
                and all(p['left'] is not None and abs(p['left'] - crash) < 3.0 for p in first_run),
                f'two presences each, the first closed at the crash ({[(p["id"], p["joined"], p["left"]) for p in presences]})')
        for name in sorted(os.listdir(session)):
            if name.endswith('.mkv'):
                ok, errors = gwtest.decodes(os.path.join(session, name))
                f.check(ok, f'{name}: decodes ({errors or "no errors"})')


def gwtest_session_start(manifest):
    import datetime
    return datetime.datetime.fromisoformat(manifest['session_start'].replace('Z', '+00:00')).timestamp()


if __name__ == '__main__':
    main()
