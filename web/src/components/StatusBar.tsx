// Room-level notices: recording banner, connection state, media and server messages.

import type { RoomState } from '../room/roomMachine';

export function RecordingBanner({ active }: { active: boolean }) {
  if (!active) return null;
  return (
    <div className="banner banner-recording" role="status" data-testid="recording-banner">
      ● Recording <span className="banner-detail">This room is being recorded.</span>
    </div>
  );
}

export function ConnectionStatus({ room }: { room: RoomState }) {
  if (room.phase === 'connecting') {
    return (
      <div className="banner banner-info" role="status" data-testid="connection-status">
        Connecting to room “{room.room}”…
      </div>
    );
  }
  if (room.phase !== 'reconnecting') return null;
  const when = room.retryInMs === null ? 'now' : `in ${Math.max(1, Math.round(room.retryInMs / 1000))} s`;
  return (
    <div className="banner banner-warning" role="status" data-testid="connection-status">
      {room.connectionProblem ?? 'Not connected.'} Reconnecting {when} (attempt {room.failedAttempts + 1})…
    </div>
  );
}

export function Notice({ text, onDismiss }: { text: string; onDismiss?: () => void }) {
  return (
    <div className="banner banner-info" role="status">
      {text}
      {onDismiss && (
        <button type="button" className="link" onClick={onDismiss} aria-label="Dismiss message">
          ✕
        </button>
      )}
    </div>
  );
}
