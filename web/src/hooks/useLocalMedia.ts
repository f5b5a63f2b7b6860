// Reads the LocalMedia owner's state into React.

import { useSyncExternalStore } from 'react';
import type { LocalMedia, LocalMediaState } from '../media/LocalMedia';

export function useLocalMedia(media: LocalMedia): LocalMediaState {
  return useSyncExternalStore(
    (l) => media.subscribe(l),
    () => media.current,
  );
}
