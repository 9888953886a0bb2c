// The API key lives in sessionStorage only: gone when the tab closes, never in a URL.
import type { Me, ServiceRoute } from "./types";

const KEY = "aip.apiKey";

export function loadKey(storage: Storage = sessionStorage): string {
  try {
    return storage.getItem(KEY) ?? "";
  } catch {
    return "";
  }
}

export function saveKey(key: string, storage: Storage = sessionStorage): void {
  try {
    if (key) storage.setItem(KEY, key);
    else storage.removeItem(KEY);
  } catch {
    /* storage disabled: the key lives in memory for this page only */
  }
}

/** Scope names that grant everything (the gateway gives keys seeded without scopes "all"). */
const ALL = ["all", "*"];
const hasAll = (me: Me) => me.scopes.some((s) => ALL.includes(s));

/** Whether the signed-in key has every scope the service's route asks for. */
export function hasScopes(me: Me | null, svc: Pick<ServiceRoute, "scopes"> | null | undefined): boolean {
  if (!me || !svc) return false;
  if (hasAll(me)) return true;
  return (svc.scopes ?? []).every((s) => me.scopes.includes(s));
}

export function missingScopes(me: Me | null, svc: Pick<ServiceRoute, "scopes"> | null | undefined): string[] {
  if (!me || !svc || hasAll(me)) return [];
  return (svc.scopes ?? []).filter((s) => !me.scopes.includes(s));
}
