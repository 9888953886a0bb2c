"""`python -m vlm_service`: load the pipeline (and the VLM when VLM_MODEL is set) and serve."""

from kit_kserve.server import run

from .model import StatementModel
from .settings import Settings


def main() -> None:
    run("vlm", Settings(), StatementModel)


if __name__ == "__main__":
    main()
