"""`python -m document_qa_service`: load the models and the store, then serve (v1 REST on
DOCQA_PORT plus the SSE streaming route)."""

from kit.logging import configure_logging
from kit.server import serve

from .model import DocumentQAModel
from .settings import Settings
from .streaming import stream_router


def main() -> None:
    settings = Settings()
    configure_logging("document-qa", settings.log_level)
    model = DocumentQAModel(settings)
    model.load()
    serve(model, settings, service_name="document-qa", routers=[stream_router(model)])


if __name__ == "__main__":
    main()
