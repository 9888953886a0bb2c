// Shapes of the gateway's public API: generated from its OpenAPI document into api.gen.ts
// (`make api-types`; never edit that file). Only UI-only types are written here.
import type { components } from "./api.gen";

type Schemas = components["schemas"];

export type Me = Schemas["MeOut"];
export type ServiceRoute = Schemas["ServiceOut"];
export type Upstream = Schemas["UpstreamHealth"];
export type Health = Schemas["HealthOut"];

export type JobState = Schemas["JobOut"]["state"];
/** A job as listed, or (from `GET /api/v1/jobs/{id}`) with its result or error. */
export type Job = Schemas["JobDetail"];
export type JobEvent = Schemas["JobEventOut"];

export type Word = Schemas["Word"];
export type Segment = Schemas["Segment"];
export type Transcript = Schemas["TranscriptionResult"];

export type Statement = Schemas["StatementSummary"];
export type Transaction = Schemas["Transaction"];
export type StatementProblem = Schemas["StatementProblem"];
export type PageInfo = Schemas["PageInfo"];
export type Reading = Schemas["Reading"];
export type StatementResult = Schemas["StatementResult"];
/** How a row's printed balance was checked (vlm-service `check`). */
export type CheckState = NonNullable<Transaction["check"]>;

export type DocumentInfo = Schemas["Document"];
export type Citation = Schemas["Citation"];
export type Answer = Schemas["AnswerOut"];

export type TranslationLanguage = Schemas["TranslationLanguage"];
export type TranslationLanguages = Schemas["TranslationLanguages"];
export type TextTranslation = Schemas["TranslationResult"];
export type DocumentTranslation = Schemas["DocumentTranslationResult"];

export type LiveSegment = Schemas["LiveSegment"];
/** A server message of the live transcription WebSocket. */
export type LiveMessage = Schemas["LiveMessage"];

/** Route kinds the UI has pages for; a route's `kind` may be any other string (custom services). */
export type ServiceKind = "transcription" | "statement-extraction" | "document-qa" | "translation" | "custom";
