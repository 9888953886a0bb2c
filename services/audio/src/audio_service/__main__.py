"""`python -m audio_service`: load the model and serve it (v1/v2 REST on AUDIO_PORT, gRPC on AUDIO_GRPC_PORT)."""

from kit.logging import configure_logging
from kit.server import serve

from .live_route import live_router
from .model import AudioModel
from .settings import Settings
from .stream import stream_router


def main() -> None:
    settings = Settings()
    configure_logging("audio", settings.log_level)
    model = AudioModel(settings)
    model.load()
    serve(model, settings, service_name="audio", routers=[stream_router(model), live_router(model)])


if __name__ == "__main__":
    main()
