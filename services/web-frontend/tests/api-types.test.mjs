// The API types are generated from the gateway's OpenAPI document, never written by hand:
// regenerate both (gen-api.sh --out, with the gateway's own venv and openapi-typescript) and
// compare them with the committed tests/contracts/gateway-openapi.json and src/lib/api.gen.ts.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";

const here = path.dirname(fileURLToPath(import.meta.url));
const web = path.join(here, "..");
const committedJson = path.join(web, "..", "..", "tests", "contracts", "gateway-openapi.json");
const committedTs = path.join(web, "src", "lib", "api.gen.ts");
const STALE = "is stale: run `make api-types` and commit tests/contracts/gateway-openapi.json and src/lib/api.gen.ts";

let fresh;

beforeAll(() => {
  fresh = mkdtempSync(path.join(os.tmpdir(), "api-types-"));
  execFileSync("bash", [path.join(web, "gen-api.sh"), "--out", fresh], { stdio: ["ignore", "ignore", "inherit"] });
}, 300_000);

describe("generated API types", () => {
  it("the committed OpenAPI document is the gateway's", () => {
    const now = readFileSync(path.join(fresh, "gateway-openapi.json"), "utf8");
    expect(now === readFileSync(committedJson, "utf8"), `gateway-openapi.json ${STALE}`).toBe(true);
  });

  it("the committed api.gen.ts is generated from it", () => {
    const now = readFileSync(path.join(fresh, "api.gen.ts"), "utf8");
    expect(now === readFileSync(committedTs, "utf8"), `src/lib/api.gen.ts ${STALE}`).toBe(true);
  });

  it("carries the gateway's response models", () => {
    const ts = readFileSync(committedTs, "utf8");
    for (const name of ["JobOut", "JobDetail", "JobEventOut", "ServiceOut", "StatementResult", "TranscriptionResult",
      "TranslationResult", "AnswerOut", "LiveTokenOut", "HealthOut", "ErrorOut"]) {
      expect(ts, name).toMatch(new RegExp(`^        ${name}: \\{`, "m"));
    }
  });
});
