// Attaches a MediaStream to a <video> and starts playback within the autoplay rules.

import { useEffect, useRef, useState, type RefObject } from 'react';

export interface MediaElement {
  ref: RefObject<HTMLVideoElement | null>;
  /** The browser refused unmuted autoplay; playback runs muted until the user asks for sound. */
  soundBlocked: boolean;
  enableSound(): void;
}

export function useMediaElement(stream: MediaStream | null, local: boolean): MediaElement {
  const ref = useRef<HTMLVideoElement | null>(null);
  const [soundBlocked, setSoundBlocked] = useState(false);

  useEffect(() => {
    const video = ref.current;
    if (!video) return;
    video.srcObject = stream;
    // Our own voice is never played back.
    video.muted = local;
    if (!stream) return;
    let cancelled = false;
    video.play().catch((err: unknown) => {
      if (cancelled || (err as { name?: string }).name !== 'NotAllowedError') return;
      video.muted = true;
      setSoundBlocked(true);
      void video.play().catch(() => {});
    });
    return () => {
      cancelled = true;
    };
  }, [stream, local]);

  const enableSound = () => {
    const video = ref.current;
    if (!video) return;
    video.muted = false;
    void video.play().then(
      () => setSoundBlocked(false),
      () => {
        video.muted = true;
      },
    );
  };

  return { ref, soundBlocked, enableSound };
}

/** True while the stream carries a live audio track; follows tracks added or ended. */
export function useHasLiveAudio(stream: MediaStream | null): boolean {
  const [has, setHas] = useState(false);
  useEffect(() => {
    if (!stream) {
      setHas(false);
      return;
    }
    const check = () => setHas(stream.getAudioTracks().some((t) => t.readyState === 'live'));
    check();
    const tracks = stream.getAudioTracks();
    stream.addEventListener('addtrack', check);
    stream.addEventListener('removetrack', check);
    for (const t of tracks) t.addEventListener('ended', check);
    return () => {
      stream.removeEventListener('addtrack', check);
      stream.removeEventListener('removetrack', check);
      for (const t of tracks) t.removeEventListener('ended', check);
    };
  }, [stream]);
  return has;
}
