"""``/v1/documents``: list, upload (with the chat page's rules: safe names, types, size) and remove.

Writes take turns within the server; another process writing the same index makes a write fail
with 409 after the index lock's wait, as a second ``rag ingest`` does, and the upload is not kept.
"""

from __future__ import annotations

import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse

from rag import api
from rag.core.errors import RagError
from rag.serve.errors import error_response, message_response
from rag.serve.state import ServerState

MAX_FILES = 20  # per request
_BLOCK = 1 << 20


def documents_router(state: ServerState) -> APIRouter:
    """Return the router of the document routes over one server's state."""
    router = APIRouter(tags=["documents"])
    s = state.settings
    limit_mb = s.ui.max_upload_mb

    @router.get("/v1/documents")
    def list_documents() -> Any:
        """List the indexed documents (id, path, title, date, chunks, collection) and the index's state."""
        try:
            infos, status = api.list_documents(s), api.index_status(s)
        except RagError as exc:
            return error_response(exc)
        return {"documents": [asdict(i) for i in infos], "index": asdict(status)}

    @router.post("/v1/documents")
    def upload(
        files: Annotated[list[UploadFile], File(description="Files (.txt .md .html .pdf .docx)")],
    ) -> Any:
        """Store the files under the server's uploads folder (never overwriting) and index them.

        A file of another type or over `ui.max_upload_mb` is refused; one that cannot be read is not
        kept. 200 when a file was stored (or was there already), else 400; the report says why.
        """
        if len(files) > MAX_FILES:
            return message_response(f"At most {MAX_FILES} files per request; send the rest in another.", 400)
        with tempfile.TemporaryDirectory(prefix="rag-upload-") as tmp:
            received, refused = [], []
            for i, f in enumerate(files):
                name = f.filename or "upload"
                path = Path(tmp) / str(i)
                if not _copy(f, path, int(limit_mb * 1e6)):
                    refused.append(f"{name} is over the limit of {limit_mb:g} MB (RAG_UI__MAX_UPLOAD_MB).")
                    continue
                received.append((path, name))
            try:
                with state.writes:
                    report = api.add_uploads(received, s) if received else None
            except RagError as exc:  # e.g. another process is writing to the index
                return error_response(exc)
        body = asdict(report) if report else {"stored": [], "duplicates": [], "failed": [], "ingest": None}
        body["refused"] = refused + list(body.get("refused", []))
        state.metrics.documents.labels("added").inc(len(body["stored"]))
        return JSONResponse(body, status_code=200 if body["stored"] or body["duplicates"] else 400)

    @router.delete("/v1/documents/{doc_id}")
    def remove(doc_id: Annotated[str, PathParam(pattern=r"^[0-9a-f]{16}$")]) -> Any:
        """Remove a document from the index and delete its uploaded copy; 404 when no document has the id."""
        try:
            with state.writes:
                done = api.remove_document_and_upload(doc_id, s)
        except RagError as exc:
            return error_response(exc)
        if done is None:
            return message_response(f"No document has the id {doc_id}; GET /v1/documents lists them.", 404)
        info, chunks = done
        state.metrics.documents.labels("removed").inc()
        return {"removed": asdict(info), "chunks": chunks}

    return router


def _copy(upload: UploadFile, dest: Path, limit: int) -> bool:
    """Copy an upload to ``dest``, stopping as soon as it is over ``limit`` bytes; return False then."""
    size = 0
    with dest.open("wb") as out:
        while block := upload.file.read(_BLOCK):
            size += len(block)
            if size > limit:
                return False
            out.write(block)
    return True
