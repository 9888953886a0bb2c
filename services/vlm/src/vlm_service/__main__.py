"""`python -m vlm_service`: load the pipeline (and the VLM when VLM_MODEL is set) and serve."""

from kit.logging import configure_logging
from kit.server import serve

from .model import StatementModel
from .settings import Settings


def main() -> None:
    settings = Settings()
    configure_logging("vlm", settings.log_level)
    model = StatementModel(settings)
    model.load()
    serve(model, settings, service_name="vlm")


if __name__ == "__main__":
    main()
