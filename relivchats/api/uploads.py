"""Reading an uploaded file from a multipart request: streamed, in memory, within the limit.

Starlette's form parser would spool anything over 1 MB to a temporary file on disk, in clear,
and read the whole body before any limit applies. Here the body is fed chunk by chunk (as the
server receives it) to python-multipart's streaming parser; only the `file` field's bytes are
kept, in memory, and the request is refused with 413 as soon as they pass the upload limit, or
at once when `Content-Length` already says so. Parsing a 64 KB chunk takes well under a
millisecond, so the event loop stays free while a 25 MB upload arrives.
"""

from __future__ import annotations

from fastapi import Request
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from relivchats.api.errors import ApiError
from relivchats.domain.uploads import MAX_UPLOAD_BYTES, UploadTooLarge

FILE_FIELD = b"file"
# Room for the multipart framing (boundaries, part headers) around a file at the limit.
_FRAMING_ALLOWANCE = 64 * 1024

# A three-message export: what the document shows, and what a schema-driven client can send.
EXAMPLE_EXPORT = (
    "04/08/2024, 11:15 - Rahul: Should we plan the Goa trip for December?\n"
    "04/08/2024, 11:18 - Asha: Yes!! Beach, no laptops\n"
    "04/08/2024, 11:22 - Rahul: I'll look at tickets tonight\n"
)

# For the OpenAPI document: the route reads the body itself, so FastAPI cannot infer it.
UPLOAD_REQUEST_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "example": {"file": EXAMPLE_EXPORT},
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {
                        "type": "string",
                        "format": "binary",
                        "description": "a WhatsApp export: the .txt, or the .zip holding it",
                    }
                },
            },
        }
    },
}


class _FilePart:
    """Collects the bytes of the part named `file`; ignores other parts."""

    def __init__(self, limit: int):
        self.limit = limit
        self.data = bytearray()
        self.found = False
        self._in_file = False
        self._header_field = bytearray()
        self._header_value = bytearray()

    def on_part_begin(self) -> None:
        self._in_file = False

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        if bytes(self._header_field).lower() == b"content-disposition":
            _, options = parse_options_header(bytes(self._header_value))
            if options.get(b"name") == FILE_FIELD and not self.found:
                self._in_file = self.found = True
        self._header_field.clear()
        self._header_value.clear()

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._in_file:
            self.data += data[start:end]
            if len(self.data) > self.limit:
                raise UploadTooLarge("uploaded file", self.limit)


async def read_uploaded_file(request: Request, limit: int = MAX_UPLOAD_BYTES) -> bytes:
    """The bytes of the multipart field `file`; 413 past `limit`, 415/422 for a bad request."""
    boundary = _boundary(request)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + _FRAMING_ALLOWANCE:
        raise UploadTooLarge("uploaded file", limit)
    part = _FilePart(limit)
    try:
        parser = MultipartParser(
            boundary,
            {
                "on_part_begin": part.on_part_begin,
                "on_header_field": part.on_header_field,
                "on_header_value": part.on_header_value,
                "on_header_end": part.on_header_end,
                "on_part_data": part.on_part_data,
            },
        )
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
    except FormParserError:
        raise ApiError(422, "the multipart body could not be read", code="bad_multipart") from None
    if not part.found:
        raise ApiError(422, "send the chat export in the multipart field 'file'", code="no_file")
    return bytes(part.data)


def _boundary(request: Request) -> bytes:
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise ApiError(
            415,
            "send the chat export as multipart/form-data, in the field 'file'",
            code="unsupported_media_type",
        )
    return boundary
