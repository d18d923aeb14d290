"""``/v2/images/{id}/file``: stream data in (PUT) and out (GET, with Range).

The PUT endpoint is a plain sync endpoint running in a worker thread; it pulls the request body
from the event loop one ASGI message at a time (``anyio.from_thread.run``), batches messages
into chunks of ``chunk_size`` and hands them to the upload pipeline, so at most one chunk is in
memory. The GET response streams the store's chunks from a worker thread.
"""

from __future__ import annotations

from collections.abc import Iterator

import anyio.from_thread
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.requests import ClientDisconnect

from stratus.core.context import RequestContext
from stratus.core.exceptions import BadRequest, UnsupportedMediaType
from stratus.image.api.deps import Context, get_service, media_type
from stratus.image.api.errors import glance_error
from stratus.image.core.data import UnsatisfiableRange, UploadInterrupted

router = APIRouter(prefix="/v2/images/{image_id}/file")
UPLOAD_TYPES = ("application/octet-stream", "")


def request_chunks(request: Request, chunk_size: int) -> Iterator[bytes]:
    """The request body in chunks of about ``chunk_size`` bytes (call from a worker thread)."""
    stream = request.stream()
    buffer = bytearray()
    while True:
        try:
            message = anyio.from_thread.run(anext, stream, None)
        except ClientDisconnect:
            raise UploadInterrupted("The client closed the connection before the upload finished.") from None
        except Exception as exc:  # the body could not be received: the client's side failed
            raise UploadInterrupted(f"Receiving the image data failed: {exc}") from exc
        if message is None:
            break
        buffer += message
        if len(buffer) >= chunk_size:
            yield bytes(buffer)
            buffer.clear()
    if buffer:
        yield bytes(buffer)


def _content_length(request: Request) -> int | None:
    value = request.headers.get("content-length")
    if value is None:
        return None
    if not value.isdigit():
        raise BadRequest(f"Invalid Content-Length {value!r}.")
    return int(value)


@router.put("", status_code=204)
def upload(image_id: str, request: Request, ctx: RequestContext = Context) -> Response:
    if media_type(request) not in UPLOAD_TYPES:
        raise UnsupportedMediaType("Image data must be sent as application/octet-stream.")
    service = get_service(request)
    chunks = request_chunks(request, service.conf.chunk_size)
    service.data.upload(ctx, image_id, chunks, _content_length(request))
    return Response(status_code=204)


@router.get("")
def download(image_id: str, request: Request, ctx: RequestContext = Context) -> Response:
    try:
        found = get_service(request).data.download(ctx, image_id, request.headers.get("range"))
    except UnsatisfiableRange as exc:
        body = glance_error(exc.status, exc.title, exc.message)
        return JSONResponse(body, status_code=exc.status, headers={"Content-Range": f"bytes */{exc.total}"})
    if found is None:
        return Response(status_code=204)
    headers = {"Content-Length": str(found.end - found.start), "Accept-Ranges": "bytes"}
    if found.partial:
        headers["Content-Range"] = f"bytes {found.start}-{found.end - 1}/{found.total}"
    elif found.checksum:
        headers["Content-MD5"] = found.checksum
    return StreamingResponse(
        found.chunks, status_code=206 if found.partial else 200, headers=headers, media_type="application/octet-stream"
    )
