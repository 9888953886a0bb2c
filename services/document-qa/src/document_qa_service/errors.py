"""document-qa's domain errors on top of kit's (kit maps every one to HTTP in one place)."""

from __future__ import annotations

from http import HTTPStatus

from kit_kserve.errors import InvalidInput


class DocumentNotFound(InvalidInput):
    """No document with this id for this owner (404), also when another owner has one."""

    status = HTTPStatus.NOT_FOUND
    default_code = "document_not_found"

    def __init__(self, document_id: str):
        super().__init__(f"no document {document_id!r}")
