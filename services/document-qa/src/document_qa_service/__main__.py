"""`python -m document_qa_service`: load the models and the store, then serve (v1 REST on
DOCQA_PORT plus the SSE streaming route)."""

from kit_kserve.server import run

from .model import DocumentQAModel
from .settings import Settings
from .streaming import stream_router


def main() -> None:
    run("document-qa", Settings(), DocumentQAModel, routers=lambda model: [stream_router(model)])


if __name__ == "__main__":
    main()
