// Resolves the client's configuration: signaling URL and ICE servers.
//
// Sources, later ones win: built-in defaults, then config.json fetched from
// the page's own origin (optional), then the page's query parameters
// `?signal=` and `?ice=`. Only resolveConfig() is pure; loadConfig() fetches.

export interface ClientConfig {
  signalUrl: string;
  iceServers: RTCIceServer[];
}

export interface FileConfig {
  signalUrl?: unknown;
  iceServers?: unknown;
}

export interface PageLocation {
  protocol: string;
  host: string;
  search: string;
}

/** ws(s)://<host>/ws on the host that served the page. */
export function defaultSignalUrl(loc: PageLocation): string {
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/ws`;
}

export function parseSignalUrl(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  try {
    const url = new URL(value);
    return url.protocol === 'ws:' || url.protocol === 'wss:' ? url.toString() : null;
  } catch {
    return null;
  }
}

function isUrlList(v: unknown): boolean {
  if (typeof v === 'string') return /^(stun|stuns|turn|turns):/.test(v);
  return Array.isArray(v) && v.length > 0 && v.every((u) => typeof u === 'string' && /^(stun|stuns|turn|turns):/.test(u));
}

/** Accepts an array of RTCIceServer objects; anything else is rejected whole. */
export function parseIceServers(value: unknown): RTCIceServer[] | null {
  if (!Array.isArray(value)) return null;
  const out: RTCIceServer[] = [];
  for (const s of value) {
    if (typeof s !== 'object' || s === null || !isUrlList((s as { urls?: unknown }).urls)) return null;
    const { urls, username, credential } = s as { urls: string | string[]; username?: unknown; credential?: unknown };
    const server: RTCIceServer = { urls };
    if (typeof username === 'string') server.username = username;
    if (typeof credential === 'string') server.credential = credential;
    out.push(server);
  }
  return out;
}

export interface ResolvedConfig {
  config: ClientConfig;
  /** Values that were given but ignored, for the console. */
  warnings: string[];
}

export function resolveConfig(loc: PageLocation, file: FileConfig | null): ResolvedConfig {
  const warnings: string[] = [];
  // No ICE servers by default: roomcast runs where there is no network but loopback.
  const config: ClientConfig = { signalUrl: defaultSignalUrl(loc), iceServers: [] };

  const apply = (source: string, signal: unknown, ice: unknown) => {
    if (signal !== undefined && signal !== null) {
      const url = parseSignalUrl(signal);
      if (url) config.signalUrl = url;
      else warnings.push(`${source}: signal URL ignored (must be ws:// or wss://)`);
    }
    if (ice !== undefined && ice !== null) {
      const servers = parseIceServers(ice);
      if (servers) config.iceServers = servers;
      else warnings.push(`${source}: ICE servers ignored (must be a JSON array of {urls, username?, credential?})`);
    }
  };

  if (file) apply('config.json', file.signalUrl, file.iceServers);

  const query = new URLSearchParams(loc.search);
  let ice: unknown = undefined;
  const iceText = query.get('ice');
  if (iceText !== null) {
    try {
      ice = JSON.parse(iceText);
    } catch {
      ice = 'not JSON';
    }
  }
  apply('?signal/?ice', query.get('signal'), ice);
  return { config, warnings };
}

/** Fetches ./config.json if the server has one; a missing or broken file is not an error. */
export async function loadConfig(loc: PageLocation = window.location): Promise<ClientConfig> {
  let file: FileConfig | null = null;
  try {
    const res = await fetch('config.json', { cache: 'no-store' });
    if (res.ok) {
      const body: unknown = await res.json();
      if (typeof body === 'object' && body !== null) file = body as FileConfig;
    }
  } catch {
    // No config.json: defaults and query parameters only.
  }
  const { config, warnings } = resolveConfig(loc, file);
  for (const w of warnings) console.warn(`roomcast: ${w}`);
  return config;
}
