"""One process-wide lock for PDFium.

PDFium is not thread-safe: no two of its calls may run at once in one process, not even on
different documents (pypdfium2's ctypes calls release the GIL, so two inference threads did
overlap, and the process died in libpdfium). Every use of pypdfium2 in the service holds
`PDFIUM` (an RLock, so helpers may nest), and every PDFium object is closed explicitly while it is
held, never left to a garbage-collector finalizer that could run in another thread. Work on
rendered images (OCR, the VLM) runs outside it, so two statements still overlap there.
"""

from __future__ import annotations

import threading

PDFIUM = threading.RLock()
