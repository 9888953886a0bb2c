import { describe, expect, it } from "vitest";
import { href, navItems, parseHash } from "../src/lib/router";
import { downloadName, MIME, saveBlob, textBlob } from "../src/lib/download";

describe("parseHash", () => {
  it("maps hashes to pages", () => {
    expect(parseHash("")).toEqual({ page: "home" });
    expect(parseHash("#/")).toEqual({ page: "home" });
    expect(parseHash("#/transcribe")).toEqual({ page: "transcribe" });
    expect(parseHash("#/jobs/")).toEqual({ page: "jobs", id: null });
    expect(parseHash("#/jobs/abc%20d")).toEqual({ page: "jobs", id: "abc d" });
    expect(parseHash("#/nope")).toEqual({ page: "not-found", path: "/nope" });
    expect(parseHash("#/services/x")).toEqual({ page: "not-found", path: "/services/x" });
  });
  it("builds hashes back", () => {
    expect(href({ page: "jobs", id: "a/b" })).toBe("#/jobs/a%2Fb");
    expect(href({ page: "statements" })).toBe("#/statements");
  });
});

describe("navItems", () => {
  it("shows a page for each known kind in the route table, in a fixed order", () => {
    const items = navItems([{ kind: "translation" }, { kind: "transcription" }, { kind: "custom" }, { kind: "translation" }]);
    expect(items.map((i) => i.title)).toEqual(["Transcribe", "Translation", "Jobs", "Services"]);
  });
  it("shows document QA when a document-qa route appears", () => {
    expect(navItems([{ kind: "document-qa" }]).map((i) => i.href)).toContain("#/document-qa");
    expect(navItems([]).map((i) => i.page)).toEqual(["jobs", "services"]);
  });
});

describe("downloads", () => {
  it("derives safe file names", () => {
    expect(downloadName("meeting.wav", "srt")).toBe("meeting.srt");
    expect(downloadName("a/b:c?.pdf", "csv")).toBe("a_b_c_.csv");
    expect(downloadName(null, "vtt", "transcript")).toBe("transcript.vtt");
    expect(downloadName(".wav", "txt", "transcript")).toBe("transcript.txt");
  });
  it("makes a UTF-8 blob with the right type", async () => {
    const b = textBlob("date,description\r\n2024-01-01,Café\r\n", MIME.csv);
    expect(b.type).toBe("text/csv;charset=utf-8");
    expect(await b.text()).toBe("date,description\r\n2024-01-01,Café\r\n");
  });
});

describe("saveBlob", () => {
  it("clicks a temporary link to an object URL with the file name, then removes it", async () => {
    const clicked: { href: string; download: string; attached: boolean }[] = [];
    const children = new Set<unknown>();
    const doc = {
      body: { appendChild: (el: unknown) => children.add(el) },
      createElement: () => {
        const a = {
          href: "", download: "", rel: "", style: { display: "" },
          click() { clicked.push({ href: a.href, download: a.download, attached: children.has(a) }); },
          remove() { children.delete(a); },
        };
        return a;
      },
    } as unknown as Document;
    const blob = textBlob("a,b\r\n", MIME.csv);
    saveBlob(blob, "statement.csv", doc);
    expect(clicked).toHaveLength(1);
    expect(clicked[0].download).toBe("statement.csv");
    expect(clicked[0].href).toMatch(/^blob:/);
    expect(clicked[0].attached).toBe(true);
    expect(children.size).toBe(0);
  });
});
