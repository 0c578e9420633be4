"""Help → Open Log Folder: the folder with the studio's and the engine's logs, in the file manager."""

from __future__ import annotations

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices

from sfumato.core.api import SfumatoError
from sfumato.core.paths import log_dir


def open_log_folder() -> None:
    folder = log_dir()
    if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))):
        raise SfumatoError(f"No file manager could open the log folder; it is {folder}")
