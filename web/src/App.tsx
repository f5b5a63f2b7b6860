// Top-level screen switch: lobby or room. Owns the local media and the config.

import { useCallback, useEffect, useRef, useState } from 'react';
import { Lobby } from './components/Lobby';
import { Room } from './components/Room';
import { Watch } from './components/Watch';
import { loadConfig, type ClientConfig } from './config/clientConfig';
import { LocalMedia } from './media/LocalMedia';
import type { EndReason } from './room/roomMachine';
import { parseWatchParams } from './watch/watchMachine';

type Screen =
  | { kind: 'lobby'; message: { tone: 'error' | 'info'; text: string } | null; mediaChoice: boolean }
  | { kind: 'room'; room: string; name: string | null };

interface Entry {
  room: string;
  name: string | null;
}

/** Keeps ?room= in the address bar so the page can be shared; other parameters stay. */
function showRoomInAddress(room: string): void {
  const url = new URL(window.location.href);
  url.searchParams.set('room', room);
  window.history.replaceState(null, '', url);
}

export function App() {
  // ?room=NAME&watch=1: the WHEP live view, no joining, no camera.
  const [watch] = useState(() => parseWatchParams(window.location.search, window.location.host, window.location.protocol));
  if (watch) return <Watch params={watch} />;
  return <Member />;
}

function Member() {
  const [config, setConfig] = useState<ClientConfig | null>(null);
  const [media] = useState(() => new LocalMedia());
  const [screen, setScreen] = useState<Screen>({ kind: 'lobby', message: null, mediaChoice: false });
  const [busy, setBusy] = useState(false);
  const [entry, setEntry] = useState<Entry>(() => ({
    room: new URLSearchParams(window.location.search).get('room') ?? '',
    name: null,
  }));
  const joinSeq = useRef(0);

  useEffect(() => {
    let live = true;
    void loadConfig().then((c) => {
      if (live) setConfig(c);
    });
    return () => {
      live = false;
    };
  }, []);

  // Unmount or page close: the camera light goes off.
  useEffect(() => {
    const stop = () => media.stop();
    window.addEventListener('pagehide', stop);
    return () => {
      window.removeEventListener('pagehide', stop);
      stop();
    };
  }, [media]);

  const enter = useCallback((e: Entry) => {
    showRoomInAddress(e.room);
    setScreen({ kind: 'room', room: e.room, name: e.name });
  }, []);

  const join = useCallback(
    async (room: string, name: string | null) => {
      const e = { room, name };
      setEntry(e);
      setBusy(true);
      const seq = ++joinSeq.current;
      // Calls start only once the local stream exists or is known to be absent.
      const result = await media.acquire();
      if (seq !== joinSeq.current) return;
      setBusy(false);
      if (!result.stream) {
        setScreen({
          kind: 'lobby',
          message: { tone: 'error', text: result.problem?.message ?? 'No camera or microphone.' },
          mediaChoice: true,
        });
        return;
      }
      enter(e);
    },
    [media, enter],
  );

  const leave = useCallback(
    (end: EndReason) => {
      media.stop();
      setScreen({
        kind: 'lobby',
        message: end.code === 'hangup' ? { tone: 'info', text: 'You left the room.' } : { tone: 'error', text: end.message },
        mediaChoice: false,
      });
    },
    [media],
  );

  if (screen.kind === 'room' && config) {
    return <Room config={config} room={screen.room} name={screen.name} media={media} onLeave={leave} />;
  }
  const lobby = screen.kind === 'lobby' ? screen : { message: null, mediaChoice: false };
  return (
    <Lobby
      initialRoom={entry.room}
      initialName={entry.name ?? ''}
      message={lobby.message}
      busy={busy}
      ready={config !== null}
      mediaChoice={lobby.mediaChoice}
      onJoin={(room, name) => void join(room, name)}
      onJoinWithoutMedia={() => enter(entry)}
    />
  );
}
