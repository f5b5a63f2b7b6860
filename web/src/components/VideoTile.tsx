// One person's tile: video, name, microphone indicator and any connection message.

import { useHasLiveAudio, useMediaElement } from '../hooks/useMediaElement';

export interface VideoTileProps {
  peerId: string;
  name: string;
  stream: MediaStream | null;
  local?: boolean;
  /** For the local tile: the microphone is off or absent. Remote tiles derive it from the stream. */
  micOff?: boolean;
  /** For the local tile: the camera exists but is turned off. */
  cameraOff?: boolean;
  problem?: string | null;
}

export function VideoTile({ peerId, name, stream, local = false, micOff, cameraOff, problem }: VideoTileProps) {
  const { ref, soundBlocked, enableSound } = useMediaElement(stream, local);
  const remoteHasAudio = useHasLiveAudio(local ? null : stream);
  // The room protocol carries no mute state: a remote peer shows as muted
  // when it sends no audio track at all.
  const muted = local ? !!micOff : !remoteHasAudio;
  const hasVideo = !!stream && stream.getVideoTracks().length > 0 && !cameraOff;
  const label = local ? `${name} (you)` : name;

  return (
    <figure
      className={`tile${local ? ' tile-local' : ''}${problem ? ' tile-problem' : ''}`}
      data-testid={local ? 'local-tile' : 'remote-tile'}
      data-peer-id={peerId}
      aria-label={label}
    >
      <video ref={ref} autoPlay playsInline aria-label={`Video of ${label}`} className={hasVideo ? '' : 'video-off'} />
      {!hasVideo && (
        <div className="tile-placeholder" aria-hidden="true">
          {local ? (cameraOff && stream?.getVideoTracks().length ? 'Camera off' : 'No camera') : 'No video'}
        </div>
      )}
      <figcaption className="tile-caption">
        <span className="tile-name">{label}</span>
        {muted && (
          <span className="tile-muted" data-testid="muted-indicator" title={local ? 'Your microphone is off' : 'No audio from this person'}>
            <MicOffIcon /> {local ? 'Mic off' : 'Muted'}
          </span>
        )}
      </figcaption>
      {problem && (
        <p className="tile-message" role="alert">
          {problem}
        </p>
      )}
      {soundBlocked && (
        <button type="button" className="tile-sound" onClick={enableSound}>
          Play sound from {name}
        </button>
      )}
    </figure>
  );
}

function MicOffIcon() {
  return (
    <svg className="icon" viewBox="0 0 24 24" width="14" height="14" aria-hidden="true" focusable="false">
      <path
        fill="currentColor"
        d="M12 14a3 3 0 0 0 3-3V5a3 3 0 0 0-6 0v6a3 3 0 0 0 3 3zm5-3a5 5 0 0 1-8.6 3.5L7 15.9A7 7 0 0 0 11 17.9V21h2v-3.1A7 7 0 0 0 19 11h-2z"
      />
      <path stroke="currentColor" strokeWidth="2" strokeLinecap="round" d="M4 4l16 16" />
    </svg>
  );
}
