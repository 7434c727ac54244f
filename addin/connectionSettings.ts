/**
 * Where the task pane keeps what Connect asked for: the service URL in localStorage (not secret,
 * saves retyping), the token in memory and sessionStorage only — it survives a reload of the pane
 * but not closing it, and never lands in long-lived browser storage.
 */

const URL_KEY = 'baobei.serviceUrl';
const TOKEN_KEY = 'baobei.token';

export interface ConnectionSettings {
  serviceUrl: string;
  token: string;
}

export interface SettingsStorage {
  local: Storage | undefined;
  session: Storage | undefined;
}

function read(storage: Storage | undefined, key: string): string | null {
  try {
    return storage?.getItem(key) ?? null;
  } catch {
    // Storage may be blocked in a sandboxed or private frame: behave as if nothing was kept.
    return null;
  }
}

function write(storage: Storage | undefined, key: string, value: string | null): void {
  try {
    if (value === null) storage?.removeItem(key);
    else storage?.setItem(key, value);
  } catch {
    // Not keeping a value only means typing it again next time.
  }
}

/** What to prefill: the remembered URL or the page's own origin (the service serves the pane). */
export function loadConnectionSettings(storage: SettingsStorage, pageOrigin: string): ConnectionSettings {
  return {
    serviceUrl: read(storage.local, URL_KEY) ?? pageOrigin,
    token: read(storage.session, TOKEN_KEY) ?? '',
  };
}

export function saveConnectionSettings(storage: SettingsStorage, settings: ConnectionSettings): void {
  write(storage.local, URL_KEY, settings.serviceUrl);
  write(storage.session, TOKEN_KEY, settings.token);
  // An older build, or a mistaken edit, may have left a token in localStorage: never keep it there.
  write(storage.local, TOKEN_KEY, null);
}

export function forgetToken(storage: SettingsStorage): void {
  write(storage.session, TOKEN_KEY, null);
  write(storage.local, TOKEN_KEY, null);
}

/** The URL as the API client wants it: absolute http(s), no trailing slash; null if unusable. */
export function normaliseServiceUrl(input: string): string | null {
  const trimmed = input.trim();
  if (trimmed === '') return null;
  let parsed: URL;
  try {
    parsed = new URL(trimmed);
  } catch {
    return null;
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return null;
  return `${parsed.origin}${parsed.pathname.replace(/\/+$/, '')}`;
}
