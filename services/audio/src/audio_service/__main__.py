"""`python -m audio_service`: load the model and serve it (v1/v2 REST on AUDIO_PORT, gRPC on AUDIO_GRPC_PORT)."""

from kit_kserve.server import run

from .live_route import live_router
from .model import AudioModel
from .settings import Settings
from .stream import stream_router


def main() -> None:
    run("audio", Settings(), AudioModel,
        routers=lambda model: [stream_router(model), live_router(model)])


if __name__ == "__main__":
    main()
