// The watch view (?room=NAME&watch=1): plays a room via the gateway's WHEP endpoint without
// joining it; asks for a token when the gateway refuses one.

import { useEffect, useRef, useState } from 'react';
import { WhepPlayer } from '../watch/WhepPlayer';
import type { WatchParams, WatchState } from '../watch/watchMachine';

function statusText(s: WatchState): string {
  switch (s.kind) {
    case 'idle':
    case 'connecting':
      return 'Connecting to the live view…';
    case 'playing':
      return 'Live';
    case 'waiting':
      return `${s.message} Retrying in ${Math.round(s.delayMs / 1000)} s.`;
    case 'needsToken':
    case 'failed':
      return s.message;
    case 'stopped':
      return 'Stopped.';
  }
}

export function Watch({ params }: { params: WatchParams }) {
  const [token, setToken] = useState(params.token);
  const [draft, setDraft] = useState(params.token);
  const [state, setState] = useState<WatchState>({ kind: 'idle' });
  const video = useRef<HTMLVideoElement>(null);

  useEffect(() => {
    if (!params.endpoint) return;
    const player = new WhepPlayer({ ...params, token }, setState, (stream) => {
      if (video.current) video.current.srcObject = stream;
    });
    player.start();
    const leave = () => player.stop();
    window.addEventListener('pagehide', leave);
    return () => {
      window.removeEventListener('pagehide', leave);
      player.stop();
    };
  }, [params, token]);

  if (!params.endpoint) return <p className="watch-status">Give the room to watch: ?room=NAME&amp;watch=1</p>;
  return (
    <main className="watch">
      <h1>Watching {params.room}</h1>
      <video ref={video} autoPlay playsInline muted controls data-testid="watch-video" />
      <p className="watch-status" data-state={state.kind}>
        {statusText(state)}
      </p>
      {state.kind === 'needsToken' && (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            setToken(draft.trim());
          }}
        >
          <label>
            Viewer token <input value={draft} onChange={(e) => setDraft(e.target.value)} />
          </label>
          <button type="submit">Watch</button>
        </form>
      )}
    </main>
  );
}
