"""The instance of a `document-qa` request: one operation, chosen by `op` (see the README)."""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from kit_kserve.errors import InvalidInput

Owner = Annotated[str, Field(min_length=1, max_length=200)]
DocumentId = Annotated[str, Field(min_length=1, max_length=100)]


class _Op(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class Ingest(_Op):
    op: Literal["ingest"]
    owner: Owner
    filename: Annotated[str, Field(min_length=1, max_length=500)]
    content_type: Annotated[str, Field(max_length=200)] = ""
    data: str | dict


class ListDocuments(_Op):
    op: Literal["list"]
    owner: Owner


class GetDocument(_Op):
    op: Literal["get"]
    owner: Owner
    document_id: DocumentId


class DeleteDocument(_Op):
    op: Literal["delete"]
    owner: Owner
    document_id: DocumentId


class Ask(_Op):
    op: Literal["ask"]
    owner: Owner
    question: str
    document_ids: Annotated[list[DocumentId], Field(max_length=1000)] | None = None
    top_k: Annotated[int, Field(ge=1, le=50, strict=True)] = 5


class Embed(_Op):
    op: Literal["embed"]
    input: Annotated[list[Annotated[str, Field(max_length=100_000)]], Field(min_length=1, max_length=256)]
    owner: str | None = None  # the gateway may pass the caller; embeddings do not depend on it


Operation = Annotated[Union[Ingest, ListDocuments, GetDocument, DeleteDocument, Ask, Embed],
                      Field(discriminator="op")]
_adapter: TypeAdapter = TypeAdapter(Operation)
OPS = ("ingest", "list", "get", "delete", "ask", "embed")


def parse_instance(payload) -> Ingest | ListDocuments | GetDocument | DeleteDocument | Ask | Embed:
    """The one operation of a v1 body `{"instances": [{...}]}`; 400 with the bad fields named
    (never their values)."""
    if not isinstance(payload, dict):
        raise InvalidInput("request body must be a JSON object", code="invalid_input")
    instances = payload.get("instances")
    if not isinstance(instances, list) or len(instances) != 1:
        raise InvalidInput("expected 'instances' with exactly one operation", code="missing_input")
    inst = instances[0]
    if not isinstance(inst, dict):
        raise InvalidInput("instances[0] must be an object", code="invalid_input")
    if inst.get("op") not in OPS:
        raise InvalidInput(f"instances[0].op must be one of {', '.join(OPS)}", code="invalid_op")
    try:
        return _adapter.validate_python(inst)
    except ValidationError as exc:
        fields = sorted({".".join(str(p) for p in err["loc"][1:]) or "instance" for err in exc.errors()})
        raise InvalidInput(f"invalid {inst['op']} request: {', '.join(fields)[:300]}", code="invalid_input") from exc
