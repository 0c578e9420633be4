"""Upscaler models (the ESRGAN family) and the tiled, blended way they enlarge pictures."""
