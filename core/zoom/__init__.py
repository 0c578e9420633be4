"""Infinite zoom: keyframes made on the engine by outpainting (zooming out) or redrawing enlarged
crops (zooming in), joined into a video by a continuous exponential zoom.

`render.render_zoom` runs a whole render on anything that runs jobs (`core.job_runner.JobRunner`: the
engine, or the studio's client); `settings.ZoomSettings` describes one, and `cues.parse_cues` reads its
prompt changes written as text.
"""
