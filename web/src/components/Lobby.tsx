// The lobby: room and display name, then Join.

import { useId, useRef, useState, type FormEvent } from 'react';
import { isValidDisplayName, isValidRoomName } from '../protocol/messages';

export interface LobbyProps {
  initialRoom: string;
  initialName: string;
  /** Why we are back in the lobby, or a media problem that needs a decision. */
  message: { tone: 'error' | 'info'; text: string } | null;
  busy: boolean;
  ready: boolean;
  /** Set when neither camera nor microphone could be had: offer to join anyway. */
  mediaChoice: boolean;
  onJoin(room: string, name: string | null): void;
  onJoinWithoutMedia(): void;
}

export function roomError(room: string): string | null {
  if (room.length === 0) return 'Enter a room name.';
  if (!isValidRoomName(room)) return 'Use 1 to 64 letters, digits, “-” or “_”.';
  return null;
}

export function nameError(name: string): string | null {
  if (name.length === 0) return null;
  return isValidDisplayName(name) ? null : 'Use at most 64 characters, no control characters.';
}

export function Lobby({ initialRoom, initialName, message, busy, ready, mediaChoice, onJoin, onJoinWithoutMedia }: LobbyProps) {
  const [room, setRoom] = useState(initialRoom);
  const [name, setName] = useState(initialName);
  const [touched, setTouched] = useState(false);
  const id = useId();
  const roomInput = useRef<HTMLInputElement>(null);
  const nameInput = useRef<HTMLInputElement>(null);
  const rErr = roomError(room.trim());
  const nErr = nameError(name.trim());

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    // Keyboard users land on the field to fix.
    if (rErr) roomInput.current?.focus();
    else if (nErr) nameInput.current?.focus();
    if (rErr || nErr || busy || !ready) return;
    onJoin(room.trim(), name.trim() || null);
  };

  return (
    <main className="lobby" aria-labelledby={`${id}-title`}>
      <h1 id={`${id}-title`}>roomcast</h1>
      <form onSubmit={submit} noValidate>
        <label htmlFor={`${id}-room`}>Room</label>
        <input
          ref={roomInput}
          id={`${id}-room`}
          name="room"
          value={room}
          onChange={(e) => setRoom(e.target.value)}
          autoComplete="off"
          spellCheck={false}
          maxLength={64}
          aria-invalid={touched && !!rErr}
          aria-describedby={`${id}-room-help`}
        />
        <p id={`${id}-room-help`} className={touched && rErr ? 'field-error' : 'field-help'}>
          {touched && rErr ? rErr : 'Letters, digits, “-” and “_”.'}
        </p>
        <label htmlFor={`${id}-name`}>Your name</label>
        <input
          ref={nameInput}
          id={`${id}-name`}
          name="name"
          value={name}
          onChange={(e) => setName(e.target.value)}
          autoComplete="nickname"
          aria-invalid={!!nErr}
          aria-describedby={`${id}-name-help`}
        />
        <p id={`${id}-name-help`} className={nErr ? 'field-error' : 'field-help'}>
          {nErr ?? 'Shown to the others. Optional.'}
        </p>
        {message && (
          <p className={message.tone === 'error' ? 'lobby-message error' : 'lobby-message'} role="alert" data-testid="lobby-message">
            {message.text}
          </p>
        )}
        <div className="lobby-actions">
          <button type="submit" disabled={busy || !ready}>
            {busy ? 'Starting camera…' : mediaChoice ? 'Try again' : 'Join'}
          </button>
          {mediaChoice && (
            <button type="button" onClick={onJoinWithoutMedia} disabled={busy}>
              Join to watch and listen
            </button>
          )}
        </div>
      </form>
    </main>
  );
}
