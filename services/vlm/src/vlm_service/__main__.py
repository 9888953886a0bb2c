"""`python -m vlm_service`: load the pipeline (and the VLM when VLM_MODEL is set) and serve."""

from kit import gpu
from kit.logging import configure_logging
from kit_kserve.server import serve

from .model import StatementModel
from .settings import Settings


def main() -> None:
    settings = Settings()
    configure_logging("vlm", settings.log_level)
    model = StatementModel(settings)
    try:
        model.load()
    except gpu.GPUCheckFailed as exc:  # the device asked for cannot be served: say why, exit 78
        gpu.exit_on_failed_check(exc)
    serve(model, settings, service_name="vlm")


if __name__ == "__main__":
    main()
