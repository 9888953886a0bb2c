"""Browser tests: Debian's Chromium, driven by Playwright, against the real platform.

A session fixture starts the real stack on free loopback ports, each service from its own
service.conf and venv, exactly as `make run` does: audio-service, vlm-service,
document-qa-service, the gateway (pointed at them, with seeded keys, a temp data dir and two
extra translation routes whose upstreams are not running) and the web frontend (serve.sh). Screenshots go to $AIP_ARTIFACTS or
tests/browser/artifacts/.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from kit.testing import ServerProcess, free_port, wait_http_ok

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("AIP_ARTIFACTS") or ROOT / "tests" / "browser" / "artifacts")
CHROMIUM = os.environ.get("AIP_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

FULL_KEY = "browser-test-full-key"
AUDIO_ONLY_KEY = "browser-test-audio-only-key"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def service_conf(service_dir: Path) -> dict[str, str]:
    """The variables of a service.conf, read by the shell as start_service.sh reads them."""
    out = subprocess.run(
        ["bash", "-c", 'KIND=python; READY=/; . ./service.conf; printf "%s\\0" "$NAME" "$RUN" "$READY" "$KIND"'],
        cwd=service_dir, check=True, stdout=subprocess.PIPE, text=True,
    ).stdout.split("\0")
    return dict(zip(["NAME", "RUN", "READY", "KIND"], out[:4]))


def venv_bin(service_dir: Path) -> Path:
    out = subprocess.run(["bash", str(ROOT / "scripts" / "venv.sh"), str(service_dir)],
                         check=True, stdout=subprocess.PIPE, text=True)
    return Path(out.stdout.strip().splitlines()[-1]) / "bin"


@dataclass
class Service:
    name: str
    dir: Path
    port: int
    env: dict[str, str]
    timeout: float
    proc: ServerProcess | None = None
    conf: dict[str, str] = field(default_factory=dict)
    bin: Path | None = None  # its venv's bin/ (Python services)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def prepare(self) -> None:
        if not (self.dir / "service.conf").exists():
            raise RuntimeError(f"{self.dir.relative_to(ROOT)}/service.conf is missing: cannot start {self.name}")
        self.conf = service_conf(self.dir)
        env = {"HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1", **self.env}
        if self.conf["KIND"] == "python":
            bin_dir = self.bin = venv_bin(self.dir)
            env |= {"PATH": f"{bin_dir}:{os.environ['PATH']}", "VIRTUAL_ENV": str(bin_dir.parent)}
        self.proc = ServerProcess(["bash", "-c", f"exec {self.conf['RUN']}"], env=env, cwd=str(self.dir),
                                  ready_url=f"{self.url}{self.conf['READY']}", timeout=self.timeout, name=self.name)

    def start(self, wait: bool = True) -> None:
        assert self.proc is not None
        if wait:
            self.proc.start()
        else:
            ready, self.proc.ready_url = self.proc.ready_url, None
            self.proc.start()
            self.proc.ready_url = ready

    def wait_ready(self) -> None:
        assert self.proc is not None and self.proc.ready_url
        try:
            wait_http_ok(self.proc.ready_url, self.timeout, self.proc.proc)
        except Exception as exc:
            self.proc.stop()
            raise RuntimeError(f"{self.name} failed to start: {exc}\n--- log ---\n{self.proc.log_text()[-4000:]}") from exc

    def stop(self) -> None:
        if self.proc:
            self.proc.stop()


@dataclass
class Stack:
    audio: Service
    vlm: Service
    docqa: Service
    gateway: Service
    web: Service
    data_dir: Path
    translation: Service | None = None  # a tiny random MarianMT (en->de), the default route
    translation_bare: Service | None = None  # no model configured (route translation-bare)

    @property
    def services(self) -> list[Service]:
        extra = [s for s in (self.translation, self.translation_bare) if s is not None]
        return [self.audio, self.vlm, self.docqa, *extra, self.gateway, self.web]


def tiny_translation_model(out: Path) -> Path:
    """The translation service's own tiny random MarianMT, built in its venv."""
    python = venv_bin(ROOT / "services" / "translation") / "python"
    subprocess.run([str(python), "-c", "import sys; from translation_service.testmodel import build_tiny_marian; "
                    "build_tiny_marian(sys.argv[1])", str(out)], check=True, capture_output=True, timeout=300,
                   env={**os.environ, "HF_HUB_OFFLINE": "1"})
    return out


_stack_error: list[BaseException] = []


@pytest.fixture(scope="session")
def stack():
    # A stack that failed to start fails every test at once instead of being retried by each.
    if _stack_error:
        pytest.fail(f"the test stack failed to start: {_stack_error[0]}", pytrace=False)
    try:
        gen = _start_stack()
        s = next(gen)
    except BaseException as exc:
        _stack_error.append(exc)
        raise
    yield s
    next(gen, None)


def _start_stack():
    data_dir = Path(tempfile.mkdtemp(prefix="browser-stack-"))
    audio_port, vlm_port = free_port(), free_port()
    # Two routes of kinds the UI knows, whose upstreams are not running: their pages must
    # appear from the route table alone, and the services page must show them as down.
    tr_port, bare_port = free_port(), free_port()
    extra_routes = {"routes": [
        {"name": "translation-bare", "kind": "translation", "upstream": f"http://127.0.0.1:{bare_port}", "model": "translation",
         "scopes": ["translations"], "timeout_s": 30},
        {"name": "translation-legal", "kind": "translation", "upstream": f"http://127.0.0.1:{free_port()}",
         "scopes": ["translation"], "timeout_s": 5},
    ]}
    audio = Service("audio", ROOT / "services" / "audio", audio_port,
                    {"AUDIO_PORT": str(audio_port), "AUDIO_GRPC_PORT": str(free_port()), "AUDIO_HOST": "127.0.0.1"}, 300)
    vlm = Service("vlm", ROOT / "services" / "vlm", vlm_port,
                  {"VLM_PORT": str(vlm_port), "VLM_GRPC_PORT": str(free_port()), "VLM_HOST": "127.0.0.1"}, 300)
    translation = Service("translation", ROOT / "services" / "translation", tr_port, {
        "TRANSLATION_PORT": str(tr_port), "TRANSLATION_GRPC_PORT": str(free_port()), "TRANSLATION_CPU_THREADS": "1",
        "TRANSLATION_MODEL": str(tiny_translation_model(data_dir / "opus-mt-en-de-tiny"))}, 300)
    translation_bare = Service("translation-bare", ROOT / "services" / "translation", bare_port, {
        "TRANSLATION_PORT": str(bare_port), "TRANSLATION_GRPC_PORT": str(free_port()), "TRANSLATION_MODEL": ""}, 300)
    docqa_port = free_port()
    docqa = Service("document-qa", ROOT / "services" / "document-qa", docqa_port,
                    {"DOCQA_PORT": str(docqa_port), "DOCQA_GRPC_PORT": str(free_port()), "DOCQA_HOST": "127.0.0.1",
                     "DOCQA_DATA_DIR": str(data_dir / "document-qa")}, 300)
    gw_port = free_port()
    gateway = Service("gateway", ROOT / "services" / "gateway", gw_port, {
        "GATEWAY_PORT": str(gw_port),
        "GATEWAY_AUDIO_URL": audio.url,
        "GATEWAY_VLM_URL": vlm.url,
        "GATEWAY_TRANSLATION_URL": translation.url,
        "GATEWAY_DOCQA_URL": docqa.url,
        "GATEWAY_API_KEYS": f"{FULL_KEY};{AUDIO_ONLY_KEY}:transcriptions",
        "GATEWAY_DATA_DIR": str(data_dir / "gateway"),
        "GATEWAY_ROUTES": json.dumps(extra_routes),
        "GATEWAY_BREAKER_RESET_S": "2",
    }, 120)
    web_port = free_port()
    web = Service("web-frontend", ROOT / "services" / "web-frontend", web_port,
                  {"WEB_PORT": str(web_port), "WEB_GATEWAY_URL": gateway.url}, 600)
    s = Stack(audio, vlm, docqa, gateway, web, data_dir, translation, translation_bare)
    try:
        for svc in s.services:
            svc.prepare()
        # The model services load in parallel; the gateway and UI need nothing from them to start.
        audio.start(wait=False)
        vlm.start(wait=False)
        translation.start(wait=False)
        translation_bare.start(wait=False)
        docqa.start(wait=False)
        gateway.start()
        web.start()
        audio.wait_ready()
        vlm.wait_ready()
        translation.wait_ready()
        translation_bare.wait_ready()
        docqa.wait_ready()
        yield s
    finally:
        for svc in reversed(s.services):
            svc.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def playwright():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (services/web-frontend/apt.txt)")
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright):
    b = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    yield b
    b.close()


@pytest.fixture
def browser_with_mic(playwright):
    """browser_with_mic(wav): a Chromium whose microphone is Chromium's fake capture device
    playing `wav` once (and whose permission prompt is answered yes)."""
    browsers = []

    def launch(wav: Path):
        args = [*CHROMIUM_ARGS, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-audio-capture={wav}%noloop"]
        b = playwright.chromium.launch(executable_path=CHROMIUM, args=args, headless=True)
        browsers.append(b)
        return b

    yield launch
    for b in browsers:
        b.close()


@pytest.fixture
def make_page(browser, stack):
    """make_page("desktop" | "phone"): a page in a fresh context (its own sessionStorage)."""
    contexts = []

    def make(viewport="desktop"):
        ctx = browser.new_context(viewport={"desktop": DESKTOP, "phone": PHONE}.get(viewport, viewport), base_url=stack.web.url, accept_downloads=True)
        ctx.set_default_timeout(20_000)
        contexts.append(ctx)
        page = ctx.new_page()
        page.on("pageerror", lambda e: js_errors.append(f"{page.url}: {e}"))
        return page

    js_errors: list[str] = []
    yield make
    for ctx in contexts:
        ctx.close()
    # Whatever a test did, the app itself must not have thrown.
    assert not js_errors, f"uncaught errors in the page: {js_errors}"


@pytest.fixture
def page(make_page):
    return make_page()


def _sign_in(page, key: str = FULL_KEY) -> None:
    page.goto("/")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Sign out").wait_for()


@pytest.fixture
def sign_in():
    """sign_in(page, key=FULL_KEY): sign in through the form and wait for the app."""
    return _sign_in


@pytest.fixture
def signed_in(page):
    _sign_in(page)
    return page


@pytest.fixture
def keys():
    return {"full": FULL_KEY, "audio_only": AUDIO_ONLY_KEY}


@pytest.fixture
def shot():
    """shot(page, name): save a full-page screenshot as a test artifact."""
    return _shot


@pytest.fixture
def speech(tmp_path):
    """speech(text) -> Path of a 16 kHz mono WAV spoken by espeak-ng."""
    return lambda text, name="speech.wav": _espeak_wav(text, tmp_path / name)


@pytest.fixture
def statement(stack, tmp_path):
    """statement(n, layout) -> (PDF path, ground truth): a synthetic statement from the vlm
    service's own generator (python -m vlm_service.synth), run in its venv."""

    def make(n: int = 12, layout: str = "debit_credit", seed: int = 7):
        out, truth = tmp_path / f"statement-{layout}-{n}.pdf", tmp_path / f"truth-{layout}-{n}.json"
        subprocess.run([str(stack.vlm.bin / "python"), "-m", "vlm_service.synth", "--layout", layout,
                        "--seed", str(seed), "--transactions", str(n), "--out", str(out), "--truth", str(truth)],
                       check=True, capture_output=True)
        return out, json.loads(truth.read_text())

    return make


UNLABELLED_JS = """() => [...document.querySelectorAll('input, select, textarea, button, audio, a[href]')]
    .filter((el) => {
        if (el.type === 'hidden') return false;
        const labelled = (el.labels && [...el.labels].some((l) => l.textContent.trim()))
            || (el.getAttribute('aria-label') || '').trim()
            || (el.getAttribute('aria-labelledby') || '').trim();
        const text = ['BUTTON', 'A'].includes(el.tagName) && el.textContent.trim();
        return !labelled && !text;
    })
    .map((el) => el.outerHTML.slice(0, 120))"""


@pytest.fixture
def unlabelled():
    """unlabelled(page) -> the controls on the page that have no accessible name."""
    return lambda page: page.evaluate(UNLABELLED_JS)


def _shot(page, name: str) -> Path:
    """Save a full-page screenshot as a test artifact."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def _espeak_wav(text: str, out: Path) -> Path:
    """A 16 kHz mono WAV of `text` spoken by espeak-ng (a little slower than its default 175
    words per minute, which the tiny English Whisper model hears more reliably)."""
    raw = out.with_suffix(".raw.wav")
    subprocess.run(["espeak-ng", "-s", "130", "-w", str(raw), text], check=True)
    subprocess.run(["sox", str(raw), "-r", "16000", "-c", "1", str(out)], check=True)
    raw.unlink()
    return out
