"""`python -m audio_service`: load the model and serve it (v1/v2 REST on AUDIO_PORT, gRPC on AUDIO_GRPC_PORT)."""

from kit import gpu
from kit.logging import configure_logging
from kit_kserve.server import serve

from .live_route import live_router
from .model import AudioModel
from .settings import Settings
from .stream import stream_router


def main() -> None:
    settings = Settings()
    configure_logging("audio", settings.log_level)
    model = AudioModel(settings)
    try:
        model.load()
    except gpu.GPUCheckFailed as exc:  # the device asked for cannot be served: say why, exit 78
        gpu.exit_on_failed_check(exc)
    serve(model, settings, service_name="audio", routers=[stream_router(model), live_router(model)])


if __name__ == "__main__":
    main()
