"""`python -m translation_service`: load the model(s) and serve them (v1/v2 REST on TRANSLATION_PORT, gRPC)."""

from kit.logging import configure_logging
from kit_kserve.server import serve

from .model import TranslationModel
from .routes import install_routes
from .settings import Settings


def main() -> None:
    settings = Settings()
    configure_logging("translation", settings.log_level)
    model = TranslationModel(settings)
    model.load()  # without a model configured: not ready, with the message in /v1/models/translation/languages
    install_routes(model)
    serve(model, settings, service_name="translation")


if __name__ == "__main__":
    main()
