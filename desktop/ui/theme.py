"""The studio's themes: "dark", the Fusion style with a neutral grey palette and the studio style
sheet, and "system", the Fusion style in the platform's own palette."""

from __future__ import annotations

from importlib.resources import files

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

STYLE_SHEET = "styles/studio.qss"

_ROLES = {
    QPalette.ColorRole.Window: (45, 45, 45),
    QPalette.ColorRole.WindowText: (222, 222, 222),
    QPalette.ColorRole.Base: (35, 35, 35),
    QPalette.ColorRole.AlternateBase: (42, 42, 42),
    QPalette.ColorRole.ToolTipBase: (30, 30, 30),
    QPalette.ColorRole.ToolTipText: (230, 230, 230),
    QPalette.ColorRole.PlaceholderText: (125, 125, 125),
    QPalette.ColorRole.Text: (226, 226, 226),
    QPalette.ColorRole.Button: (58, 58, 58),
    QPalette.ColorRole.ButtonText: (224, 224, 224),
    QPalette.ColorRole.BrightText: (255, 255, 255),
    QPalette.ColorRole.Highlight: (92, 92, 92),
    QPalette.ColorRole.HighlightedText: (255, 255, 255),
    QPalette.ColorRole.Link: (180, 180, 180),
    QPalette.ColorRole.Light: (70, 70, 70),
    QPalette.ColorRole.Midlight: (58, 58, 58),
    QPalette.ColorRole.Mid: (48, 48, 48),
    QPalette.ColorRole.Dark: (28, 28, 28),
    QPalette.ColorRole.Shadow: (10, 10, 10),
}
_DISABLED_TEXT = (120, 120, 120)


def dark_palette() -> QPalette:
    palette = QPalette()
    for role, rgb in _ROLES.items():
        palette.setColor(role, QColor(*rgb))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(*_DISABLED_TEXT))
    return palette


def style_sheet() -> str:
    return files("sfumato.resources").joinpath(STYLE_SHEET).read_text(encoding="utf-8")


def apply_theme(app: QApplication, theme: str = "dark") -> None:
    app.setStyle("Fusion")
    if theme == "system":
        app.setPalette(app.style().standardPalette())
        app.setStyleSheet("")
        return
    app.setPalette(dark_palette())
    app.setStyleSheet(style_sheet())
