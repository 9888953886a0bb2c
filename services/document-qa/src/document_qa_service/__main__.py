"""`python -m document_qa_service`: load the models and the store, then serve (v1 REST on
DOCQA_PORT plus the SSE streaming route)."""

from kit import gpu
from kit.logging import configure_logging
from kit_kserve.server import serve

from .model import DocumentQAModel
from .settings import Settings
from .streaming import stream_router


def main() -> None:
    settings = Settings()
    configure_logging("document-qa", settings.log_level)
    model = DocumentQAModel(settings)
    try:
        model.load()
    except gpu.GPUCheckFailed as exc:  # the device asked for cannot be served: say why, exit 78
        gpu.exit_on_failed_check(exc)
    serve(model, settings, service_name="document-qa", routers=[stream_router(model)])


if __name__ == "__main__":
    main()
