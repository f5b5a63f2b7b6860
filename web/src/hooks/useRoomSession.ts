// Binds a RoomSession's lifetime to the component that shows the room.

import { useEffect, useState, useSyncExternalStore } from 'react';
import type { ClientConfig } from '../config/clientConfig';
import { RoomSession, type RoomSnapshot } from '../room/RoomSession';
import { initialState } from '../room/roomMachine';

const idle: RoomSnapshot = { room: initialState, streams: new Map() };
const noSubscribe = () => () => {};

/**
 * Creates the session in an effect and disposes it in the cleanup, so a
 * remount (or React's StrictMode double run) never leaves a socket or a peer
 * connection behind. The local stream is decided before this runs.
 */
export function useRoomSession(
  config: ClientConfig,
  room: string,
  name: string | null,
  localStream: () => MediaStream | null,
): { session: RoomSession | null; snapshot: RoomSnapshot } {
  const [session, setSession] = useState<RoomSession | null>(null);

  useEffect(() => {
    const s = new RoomSession(config, localStream);
    setSession(s);
    s.start(room, name);
    return () => {
      s.dispose();
      setSession(null);
    };
  }, [config, room, name, localStream]);

  const snapshot = useSyncExternalStore(
    session?.subscribe ?? noSubscribe,
    session?.getSnapshot ?? (() => idle),
  );
  return { session, snapshot };
}
