// Hash routes: #/transcribe, #/jobs/<id>, ...

export type Route =
  | { page: "transcribe" }
  | { page: "statements" }
  | { page: "services" }
  | { page: "jobs"; id: string | null }
  | { page: "document-qa" }
  | { page: "translation" }
  | { page: "home" }
  | { page: "not-found"; path: string };

export function parseHash(hash: string): Route {
  const path = decodeURIComponent(hash.replace(/^#/, "")).replace(/\/+$/, "") || "/";
  const parts = path.split("/").filter(Boolean);
  switch (parts[0]) {
    case undefined:
      return { page: "home" };
    case "transcribe":
    case "statements":
    case "services":
    case "document-qa":
    case "translation":
      return parts.length === 1 ? { page: parts[0] } : { page: "not-found", path };
    case "jobs":
      if (parts.length <= 2) return { page: "jobs", id: parts[1] ?? null };
      return { page: "not-found", path };
    default:
      return { page: "not-found", path };
  }
}

export function href(route: Route): string {
  if (route.page === "home") return "#/";
  if (route.page === "jobs") return route.id ? `#/jobs/${encodeURIComponent(route.id)}` : "#/jobs";
  if (route.page === "not-found") return `#${route.path}`;
  return `#/${route.page}`;
}

/** Which pages exist: one per known service kind present in the route table. */
export const KIND_PAGES: Record<string, { page: Route["page"]; title: string }> = {
  transcription: { page: "transcribe", title: "Transcribe" },
  "statement-extraction": { page: "statements", title: "Bank statements" },
  "document-qa": { page: "document-qa", title: "Document QA" },
  translation: { page: "translation", title: "Translation" },
};

export interface NavItem {
  page: Route["page"];
  title: string;
  href: string;
}

export function navItems(services: { kind: string }[]): NavItem[] {
  const items: NavItem[] = [];
  for (const kind of Object.keys(KIND_PAGES)) {
    if (services.some((s) => s.kind === kind)) {
      const { page, title } = KIND_PAGES[kind];
      items.push({ page, title, href: `#/${page}` });
    }
  }
  items.push({ page: "jobs", title: "Jobs", href: "#/jobs" });
  items.push({ page: "services", title: "Services", href: "#/services" });
  return items;
}
