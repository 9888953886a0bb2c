import { describe, expect, it } from "vitest";
import { documentBlob, isDocumentTranslation, parseGlossary, sourcesOf, targetsFor, type TranslationLanguages } from "../src/lib/translation";

const langs: TranslationLanguages = {
  ready: true,
  message: null,
  auto_detect: true,
  languages: [
    { code: "de", name: "German", source: true, target: true },
    { code: "en", name: "English", source: true, target: true },
    { code: "fr", name: "French", source: false, target: true },
  ],
  pairs: [["en", "de"], ["en", "fr"], ["de", "en"]],
};

describe("translation helpers", () => {
  it("offers the targets of the chosen source, or of any pair when detecting", () => {
    expect(targetsFor(langs, "en").map((l) => l.code)).toEqual(["de", "fr"]);
    expect(targetsFor(langs, "de").map((l) => l.code)).toEqual(["en"]);
    expect(targetsFor(langs, "auto").map((l) => l.code)).toEqual(["de", "en", "fr"]);
    expect(sourcesOf(langs).map((l) => l.code)).toEqual(["de", "en"]);
  });

  it("parses a glossary of comma or line separated terms", () => {
    expect(parseGlossary(" ACME, Contoso AG\nACME \n")).toEqual(["ACME", "Contoso AG"]);
    expect(parseGlossary("  ,\n")).toBeUndefined();
  });

  it("turns a document result into a blob of its media type", async () => {
    const result = { document: { b64: btoa("Hallo\nWelt") }, filename: "a.de.txt", media_type: "text/plain", kind: "txt",
      segments: 1, source: "en", target: "de" };
    expect(isDocumentTranslation(result)).toBe(true);
    expect(isDocumentTranslation({ text: "x" })).toBe(false);
    const blob = documentBlob(result);
    expect(blob.type).toBe("text/plain");
    expect(await blob.text()).toBe("Hallo\nWelt");
  });
});
