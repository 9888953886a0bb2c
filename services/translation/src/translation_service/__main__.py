"""`python -m translation_service`: load the model(s) and serve them (v1/v2 REST on TRANSLATION_PORT, gRPC)."""

from kit_kserve.server import run

from .model import TranslationModel
from .routes import install_routes
from .settings import Settings


def main() -> None:
    # without a model configured it loads not ready, the reason in /v1/models/translation/languages;
    # install_routes puts that route and its 503 guard on KServe's app directly (no router to return)
    run("translation", Settings(), TranslationModel, routers=install_routes)


if __name__ == "__main__":
    main()
