import { describe, expect, it } from "vitest";
import { href, navItems, parseHash } from "../src/lib/router";

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
