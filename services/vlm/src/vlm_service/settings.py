"""vlm-service settings from `VLM_*` environment variables (and `.env`)."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from kit_kserve.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="VLM_", env_file=".env", extra="ignore")

    port: int = 8000
    model_name: str = Field("vlm", description="KServe model name")
    model: str | None = Field(None, description="VLM: a local path, a hub id or /mnt/models; unset: no VLM")
    max_pages: int = Field(50, ge=1, description="pages per document; more get 413")
    max_file_mb: float = Field(50, gt=0, description="bytes per document; more get 413")
    max_image_pixels: int = Field(40_000_000, ge=1_000_000, description="pixels per image or rendered page")
    max_render_megapixels: float = Field(300, gt=0, description="all pages of a document at the OCR resolution; "
                                         "more get 413 render_too_large before anything is rendered")
    ocr_dpi: int = Field(200, ge=72, le=400, description="resolution scanned PDF pages are rendered at for OCR")
    ocr_stretch: float = Field(1.3, ge=1.0, le=2.0, description="horizontal stretch of OCR crops (thin letters)")
    ocr_threads: int | None = Field(None, ge=1, description="ONNX Runtime threads for OCR (default: cores, max 4)")
    fallback: bool = Field(True, description="re-extract pages whose checks fail with the VLM")
    max_new_tokens: int = Field(1024, ge=1, description="generation budget per VLM call")
    image_side: int = Field(1280, ge=224, description="longest side of page images sent to the VLM")
    device: str | None = Field(None, description="torch device; default cuda when present, else cpu")
