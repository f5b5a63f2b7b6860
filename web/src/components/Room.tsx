// The room screen: banners, the tile grid and the controls.

import { useCallback, useEffect, useState } from 'react';
import type { ClientConfig } from '../config/clientConfig';
import { useLocalMedia } from '../hooks/useLocalMedia';
import { useRoomSession } from '../hooks/useRoomSession';
import type { LocalMedia } from '../media/LocalMedia';
import { tilePeers, type EndReason } from '../room/roomMachine';
import { Controls } from './Controls';
import { ConnectionStatus, Notice, RecordingBanner } from './StatusBar';
import { VideoTile } from './VideoTile';

export interface RoomProps {
  config: ClientConfig;
  room: string;
  name: string | null;
  media: LocalMedia;
  onLeave(end: EndReason): void;
}

export function Room({ config, room, name, media, onLeave }: RoomProps) {
  const local = useLocalMedia(media);
  const localStream = useCallback(() => media.current.stream, [media]);
  const { session, snapshot } = useRoomSession(config, room, name, localStream);
  const state = snapshot.room;
  const [mediaNoticeShown, setMediaNoticeShown] = useState(true);

  useEffect(() => {
    if (state.phase === 'left' && state.end) onLeave(state.end);
  }, [state.phase, state.end, onLeave]);

  const peers = tilePeers(state);
  const selfName = name ?? 'Guest';

  return (
    <main className="room" aria-labelledby="room-title">
      <header className="room-header">
        <h1 id="room-title">
          Room <span className="room-name">{room}</span>
        </h1>
        <span className="room-count" data-testid="participant-count">
          {state.phase === 'joined' ? `${Object.values(state.peers).filter((p) => !p.hidden).length + 1} in the room` : ''}
        </span>
      </header>
      <RecordingBanner active={state.recording} />
      <ConnectionStatus room={state} />
      {state.notice && <Notice text={state.notice} />}
      {local.problem && mediaNoticeShown && (
        <div data-testid="media-notice">
          <Notice text={local.problem.inRoom} onDismiss={() => setMediaNoticeShown(false)} />
        </div>
      )}
      <section className="grid" aria-label="Participants">
        <VideoTile
          peerId={state.selfId ?? 'local'}
          name={selfName}
          stream={local.stream}
          local
          micOff={!local.micOn}
          cameraOff={!local.cameraOn}
        />
        {peers.map((p) => (
          <VideoTile
            key={p.id}
            peerId={p.id}
            name={p.name ?? `Guest ${p.id.slice(0, 8)}`}
            stream={snapshot.streams.get(p.id) ?? null}
            problem={p.problem}
          />
        ))}
      </section>
      {state.phase === 'joined' && peers.length === 0 && (
        <p className="empty" role="status">
          Nobody else is here yet. Share this page’s address to invite people.
        </p>
      )}
      <Controls
        hasAudio={local.hasAudio}
        hasVideo={local.hasVideo}
        micOn={local.micOn}
        cameraOn={local.cameraOn}
        onToggleMic={() => media.setMic(!local.micOn)}
        onToggleCamera={() => media.setCamera(!local.cameraOn)}
        onHangUp={() => session?.hangup()}
      />
    </main>
  );
}
