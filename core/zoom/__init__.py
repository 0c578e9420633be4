"""Infinite zoom: keyframes made on the engine by outpainting (zooming out) or redrawing enlarged
crops (zooming in), joined into a video by a continuous exponential zoom.

`render.render_zoom` runs a whole render; `settings.ZoomSettings` describes one.
"""
