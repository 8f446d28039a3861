"""Reading a signed notice (DOCX, TXT, PDF with text) into the tasks it assigns: `dondoc extract`."""

from paperwork.extract.names import UnitIndex, UnitName
from paperwork.extract.notice import Notice, read_notice
from paperwork.extract.reading import ExtractError, read_blocks, read_bytes

__all__ = [
    "ExtractError",
    "Notice",
    "UnitIndex",
    "UnitName",
    "read_blocks",
    "read_bytes",
    "read_notice",
]
