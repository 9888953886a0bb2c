"""Text in, text out: structure kept, sentences batched by length, glossary terms kept as given.

`Translator.translate_texts` takes many texts at once (a request's text, or every paragraph,
run and cell of a document) so that all their sentences share the same length-sorted batches.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from kit_kserve.cancellation import raise_if_cancelled
from kit_kserve.errors import InvalidInput

from . import languages
from .backends import Engine
from .glossary import Protected, protect, term_pattern
from .segment import sentences, split_lines, split_long, translatable

NO_SPACE_TARGETS = {"zh", "ja", "th", "my", "km"}


@dataclass
class Plan:
    """Everything one call sends to the model, keyed by the exact model input."""

    inputs: dict[str, str | None] = field(default_factory=dict)  # model input -> output

    def need(self, text: str) -> None:
        self.inputs.setdefault(text, None)


@dataclass
class Unit:
    """One sentence: the pieces the model sees and how to rebuild it."""

    sentence: str
    protected: Protected | None
    pieces: list[str]  # model inputs (the sentence or its protected form, cut to the token limit)


class Translator:
    """The loaded engines and the language pairs they serve."""

    def __init__(self, engines: list[Engine], max_batch_size: int = 16, max_batch_tokens: int = 2048):
        self.engines = engines
        self.max_batch_size = max_batch_size
        self.max_batch_tokens = max_batch_tokens
        self.by_pair: dict[tuple[str, str], Engine] = {}
        for engine in engines:
            for pair in engine.pairs():
                self.by_pair.setdefault(pair, engine)

    @property
    def sources(self) -> list[str]:
        return sorted({s for s, _ in self.by_pair})

    @property
    def targets(self) -> list[str]:
        return sorted({t for _, t in self.by_pair})

    def languages(self) -> dict:
        codes = sorted(set(self.sources) | set(self.targets))
        return {
            "languages": [{"code": c, "name": languages.name_of(c), "source": c in self.sources,
                           "target": c in self.targets} for c in codes],
            "pairs": [list(p) for p in sorted(self.by_pair)],
            "models": [{"path": e.path, "family": e.family, "backend": e.backend} for e in self.engines],
        }

    def engine_for(self, source: str, target: str) -> Engine:
        engine = self.by_pair.get((source, target))
        if engine is None:
            known = ", ".join(f"{s}->{t}" for s, t in sorted(self.by_pair)[:20])
            more = "" if len(self.by_pair) <= 20 else f" and {len(self.by_pair) - 20} more"
            raise InvalidInput(f"unsupported language pair {source}->{target}; this service translates {known}{more}",
                               code="unsupported_pair")
        return engine

    def check_code(self, code: str, what: str) -> str:
        norm = languages.normalize(code)
        if norm not in languages.LANGUAGES:
            raise InvalidInput(f"'{what}': unknown language code {code!r} (use ISO 639-1, e.g. 'de')",
                               code="unknown_language")
        return norm

    def translate_texts(self, texts: list[str], source: str, target: str, glossary: dict[str, str] | None = None,
                        fixed: re.Pattern | None = None, progress: Callable[[int, int], None] | None = None
                        ) -> list[str]:
        """Translate every text, keeping line breaks, indentation, list markers and glossary terms."""
        engine = self.engine_for(source, target)
        glossary = glossary or {}
        pattern = term_pattern(glossary)
        limit = engine.max_input_tokens
        # 1. cut into lines and sentences; protect spans; cut long sentences
        layouts = []
        units: dict[str, Unit] = {}
        plan = Plan()
        for text in texts:
            lines = []
            for line, brk in split_lines(text):
                parts = []
                if translatable(line.body):
                    for sent, gap in sentences(line.body, source):
                        if sent and translatable(sent) and sent not in units:
                            prot = protect(sent, pattern, glossary, fixed)
                            model_text = prot.text if prot else sent
                            pieces = split_long(model_text, engine.count_tokens, limit)
                            units[sent] = Unit(sent, prot, pieces)
                            for p in pieces:
                                plan.need(p)
                        parts.append((sent, gap))
                else:
                    parts = None
                lines.append((line, brk, parts))
            layouts.append(lines)
        # 2. translate; 3. sentences whose placeholders did not survive: again, around the spans
        self._run(engine, plan, source, target, progress)
        joiner = "" if target in NO_SPACE_TARGETS else " "
        done: dict[str, str] = {}
        retry: list[Unit] = []
        for sent, unit in units.items():
            out = joiner.join(plan.inputs[p] for p in unit.pieces)
            if unit.protected is None:
                done[sent] = out
                continue
            restored = unit.protected.restore(out)
            if restored is None:
                retry.append(unit)
            else:
                done[sent] = restored
        if retry:
            second = Plan()
            for unit in retry:
                for piece, is_span in unit.protected.pieces:
                    if not is_span and translatable(piece):
                        for p in split_long(piece.strip(), engine.count_tokens, limit):
                            second.need(p)
            self._run(engine, second, source, target, None)
            for unit in retry:
                done[unit.sentence] = self._rebuild(unit.protected, second, engine, limit, joiner)
        # 4. put the text back together
        results = []
        for lines in layouts:
            out = []
            for line, brk, parts in lines:
                if parts is None:
                    out.append(line.prefix + line.body + line.suffix + brk)
                    continue
                body = "".join((done.get(sent, sent) if sent else "") + gap for sent, gap in parts)
                out.append(line.prefix + body + line.suffix + brk)
            results.append("".join(out))
        return results

    @staticmethod
    def _rebuild(prot: Protected, plan: Plan, engine: Engine, limit: int, joiner: str) -> str:
        out = []
        for piece, is_span in prot.pieces:
            if is_span or not translatable(piece):
                out.append(piece)
                continue
            lead = piece[: len(piece) - len(piece.lstrip())]
            trail = piece[len(piece.rstrip()):]
            text = joiner.join(plan.inputs[p] for p in split_long(piece.strip(), engine.count_tokens, limit))
            out.append(lead + text + trail)
        return "".join(out)

    def batches(self, engine: Engine, texts: list[str]) -> list[list[str]]:
        """Texts sorted by token length and cut into batches of at most `max_batch_size` texts and
        `max_batch_tokens` padded tokens, so that short sentences never wait on long ones' padding."""
        sized = sorted(((engine.count_tokens(t), t) for t in texts), key=lambda x: x[0])
        out: list[list[str]] = []
        current: list[str] = []
        longest = 0
        for n, text in sized:
            if current and (len(current) >= self.max_batch_size or max(longest, n) * (len(current) + 1)
                            > self.max_batch_tokens):
                out.append(current)
                current, longest = [], 0
            current.append(text)
            longest = max(longest, n)
        if current:
            out.append(current)
        return out

    def _run(self, engine: Engine, plan: Plan, source: str, target: str,
             progress: Callable[[int, int], None] | None) -> None:
        todo = [t for t, v in plan.inputs.items() if v is None]
        if not todo:
            return
        batches = self.batches(engine, todo)
        finished = 0
        for batch in batches:
            raise_if_cancelled()
            for text, out in zip(batch, engine.translate(batch, source, target)):
                plan.inputs[text] = out
            finished += len(batch)
            if progress:
                progress(finished, len(todo))
