"""The handler for each tool in the toolbox."""

from __future__ import annotations

from sfumato.desktop.ui.canvas_tools import (
    FrameTool,
    MaskRectangleTool,
    MoveTool,
    PaintTool,
    PickerTool,
    ToolHandler,
    ToolHost,
)
from sfumato.desktop.ui.selection_tool import SelectTool
from sfumato.desktop.ui.tool_settings import Tool


def make_tool(tool: Tool, host: ToolHost) -> ToolHandler:
    match tool:
        case Tool.BRUSH | Tool.ERASER:
            return PaintTool(host, on_mask=False)
        case Tool.MASK_BRUSH | Tool.MASK_ERASER:
            return PaintTool(host, on_mask=True)
        case Tool.MOVE:
            return MoveTool(host)
        case Tool.MASK_RECTANGLE:
            return MaskRectangleTool(host)
        case Tool.PICKER:
            return PickerTool(host)
        case Tool.FRAME:
            return FrameTool(host)
        case Tool.SELECT:
            return SelectTool(host)
    raise ValueError(f"unknown tool {tool!r}")
