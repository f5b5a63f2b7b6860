// The call controls: microphone, camera, hang up.

export interface ControlsProps {
  hasAudio: boolean;
  hasVideo: boolean;
  micOn: boolean;
  cameraOn: boolean;
  onToggleMic(): void;
  onToggleCamera(): void;
  onHangUp(): void;
}

export function Controls({ hasAudio, hasVideo, micOn, cameraOn, onToggleMic, onToggleCamera, onHangUp }: ControlsProps) {
  return (
    <div className="controls" role="toolbar" aria-label="Call controls">
      <button
        type="button"
        onClick={onToggleMic}
        disabled={!hasAudio}
        aria-pressed={hasAudio && !micOn}
        title={hasAudio ? undefined : 'No microphone'}
      >
        {!hasAudio ? 'No microphone' : micOn ? 'Mute microphone' : 'Unmute microphone'}
      </button>
      <button
        type="button"
        onClick={onToggleCamera}
        disabled={!hasVideo}
        aria-pressed={hasVideo && !cameraOn}
        title={hasVideo ? undefined : 'No camera'}
      >
        {!hasVideo ? 'No camera' : cameraOn ? 'Turn camera off' : 'Turn camera on'}
      </button>
      <button type="button" className="hangup" onClick={onHangUp}>
        Hang up
      </button>
    </div>
  );
}
