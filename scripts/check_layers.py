#!/usr/bin/env python3
"""Checks roomcast's layer rules (docs/architecture.md, "Layers") on the include lines.

Every quoted include names its folder from the repository root, so a file's layer and the
layers it reaches are plain text. Run by the build (target 'layer-check': a violation fails
ninja) and by the test suite. Usage: check_layers.py [ROOT] [--stamp FILE] | --self-test
"""
import os
import re
import sys

SOURCE_DIRS = ('common', 'gateway', 'signaling', 'testpeer')
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)
GST = ('gst/', 'nice/', 'agent.h')  # GStreamer and libnice headers

# (folder a file is in, what it may not include, why). Prefixes match include paths;
# '<gst' stands for every GStreamer/libnice system header.
RULES = [
    ('common/', ('gateway/', 'signaling/', 'testpeer/'), 'common/ is below every program'),
    ('common/base/', ('<gst', 'common/gst/', 'common/protocol/', 'common/ops/'),
     'common/base is the bottom: no GStreamer, no other common folder'),
    ('common/protocol/', ('<gst', 'common/gst/', 'common/ops/'), 'the protocol needs no media'),
    ('common/ops/', ('<gst', 'common/gst/', 'common/protocol/'), 'ops helpers need no media'),
    ('common/gst/', ('common/protocol/', 'common/ops/'), 'GStreamer helpers know no protocol'),
    ('signaling/', ('<gst', 'common/gst/', 'gateway/', 'testpeer/'),
     'the room server links no GStreamer and no gateway'),
    ('testpeer/', ('gateway/', 'signaling/'), 'the test peer is an independent participant'),
    ('gateway/ops/', ('<gst', 'common/gst/', 'gateway/app/', 'gateway/room/', 'gateway/participant/',
                      'gateway/output/', 'gateway/media/', 'gateway/composite/', 'gateway/templates/'),
     'operations know neither GStreamer nor the media graph'),
    ('gateway/media/', ('<gst/webrtc', '<gst/sdp', 'common/protocol/', 'gateway/app/', 'gateway/room/',
                        'gateway/participant/', 'gateway/output/', 'gateway/composite/',
                        'gateway/templates/', 'gateway/ops/'),
     'media/ knows no WebRTC, templates, rooms or participants'),
    ('gateway/templates/', ('<gst/webrtc', 'common/protocol/', 'gateway/app/', 'gateway/room/',
                            'gateway/participant/', 'gateway/output/', 'gateway/composite/'),
     'templates/ knows no participants, composite or rooms'),
    ('gateway/output/', ('<gst/webrtc', 'common/protocol/', 'gateway/app/', 'gateway/room/',
                         'gateway/participant/', 'gateway/composite/'),
     'an output is a template instance: it knows no participant, composite or room'),
    ('gateway/composite/', ('<gst/webrtc', 'common/protocol/', 'gateway/app/', 'gateway/room/',
                            'gateway/participant/', 'gateway/output/', 'gateway/templates/',
                            'gateway/ops/'),
     'the composite knows no participants (they meet through the mix feed)'),
    ('gateway/participant/', ('gateway/app/', 'gateway/room/', 'gateway/composite/room_mixer.h',
                              'gateway/composite/composite_layout.h'),
     'participants and the composite meet only through the mix feed'),
    ('gateway/whep/', ('common/protocol/', 'gateway/app/', 'gateway/room/', 'gateway/participant/',
                       'gateway/output/', 'gateway/templates/', 'gateway/ops/'),
     'the WHEP live view knows the composite and webrtcbin, not rooms or participants'),
    ('gateway/room/', ('gateway/app/', 'common/protocol/signaling_client.h'),
     'a room reaches the room server only through RoomLink'),
]
# Only these files may create a GMainContext (the one context that owns all state).
MAIN_CONTEXT_OWNERS = ('gateway/app/', 'signaling/main.cpp', 'testpeer/main.cpp')
MAIN_CONTEXT_NEW = re.compile(r'\bg_main_context_new\s*\(')


def violations(root):
    found = []
    for top in SOURCE_DIRS:
        for dirpath, _, names in os.walk(os.path.join(root, top)):
            for name in sorted(names):
                if not name.endswith(('.h', '.cpp')):
                    continue
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, root).replace(os.sep, '/')
                with open(path, encoding='utf-8') as f:
                    text = f.read()
                for m in INCLUDE.finditer(text):
                    kind, target = m.group(1), m.group(2)
                    line = text.count('\n', 0, m.start()) + 1
                    if kind == '"' and '/' not in target and target != 'roomcast-config.h':
                        found.append(f'{rel}:{line}: "{target}" does not name its folder')
                    key = '<' + target if kind == '<' else target
                    if kind == '<' and target.startswith(GST):
                        key = '<gst' + ('/' + target[4:] if target.startswith('gst/') else '')
                    for folder, banned, why in RULES:
                        if rel.startswith(folder) and any(key.startswith(b) for b in banned):
                            found.append(f'{rel}:{line}: includes {target}: {why}')
                if MAIN_CONTEXT_NEW.search(text) and not rel.startswith(MAIN_CONTEXT_OWNERS):
                    found.append(f'{rel}: creates a GMainContext: only gateway/app/ and the '
                                 'programs\' mains own one')
    return found


def self_test():
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        def put(rel, text):
            os.makedirs(os.path.dirname(os.path.join(tmp, rel)), exist_ok=True)
            with open(os.path.join(tmp, rel), 'w') as f:
                f.write(text)
        put('common/base/a.h', '#include <gst/gst.h>\n#include "common/base/b.h"\n')
        put('gateway/media/m.h', '#include "gateway/room/room_session.h"\n#include "log.h"\n')
        put('gateway/ops/o.cpp', '#include <gst/webrtc/webrtc.h>\n')
        put('gateway/room/r.cpp', '#include "common/protocol/room_link.h"\n'
            'void f() { g_main_context_new(); }\n')
        put('gateway/participant/p.cpp', '#include "gateway/composite/mix_feed.h"\n')
        got = violations(tmp)
        expect = ['common/base/a.h:1: includes gst/gst.h', 'gateway/media/m.h:1: includes gateway/room',
                  'gateway/media/m.h:2: "log.h" does not name its folder',
                  'gateway/ops/o.cpp:1: includes gst/webrtc', 'gateway/room/r.cpp: creates a GMainContext']
        missing = [e for e in expect if not any(g.startswith(e) for g in got)]
        if missing or len(got) != len(expect):
            print('self-test failed; expected', expect, 'got', got)
            return 1
    print('self-test: every seeded violation found, nothing else')
    return 0


def main(argv):
    if '--self-test' in argv:
        return self_test()
    import argparse
    parser = argparse.ArgumentParser()
    parser.add_argument('root', nargs='?',
                        default=os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
    parser.add_argument('--stamp')
    opts = parser.parse_args(argv)
    root = opts.root
    found = violations(root)
    for v in found:
        print(v, file=sys.stderr)
    if found:
        print(f'{len(found)} layer violation(s); see docs/architecture.md, "Layers"', file=sys.stderr)
        return 1
    if opts.stamp:
        with open(opts.stamp, 'w') as f:
            f.write('ok\n')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
