"""`sfumato doctor`'s checks: what in this setup stops or slows generation, each with its fix.

Every check returns one Finding (core/system/findings.py); a PROBLEM blocks generation (or the
studio), a WARNING does not.
"""

from __future__ import annotations

import platform
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from sfumato.core.system import gpus, qt_libraries, storage
from sfumato.core.system.findings import Finding, Severity

LOW_DISK = 5 * storage.GIB  # a model in full precision, with room to unpack it
TOO_LITTLE_DISK = 1 * storage.GIB
REINSTALL = "run Sfumato's installer again with --torch auto"


def system_name() -> str:
    return {"win32": "windows", "darwin": "macos"}.get(sys.platform, "linux")


def check_torch_gpu(found: Sequence[gpus.Gpu] | None = None) -> Finding:
    """The torch build against the GPU: a CUDA build where there is an NVIDIA GPU, one that has
    kernels for it, and a driver new enough for it."""
    import torch

    system = system_name()
    if found is None:
        found = gpus.detect_gpus(system, platform.machine())
    nvidia = [gpu for gpu in found if gpu.vendor == "nvidia"]
    build = f"torch {torch.__version__}"
    if not nvidia:
        if torch.version.cuda and not torch.cuda.is_available():
            return Finding(
                "GPU", Severity.WARNING, f"{build} is a CUDA build but no NVIDIA GPU answers.", REINSTALL
            )
        return Finding(
            "GPU", Severity.OK, f"{build}; no NVIDIA GPU found, so generation runs on the CPU or MPS."
        )
    gpu = nvidia[0]
    if not torch.version.cuda:
        return Finding(
            "GPU",
            Severity.WARNING,
            f"{gpu.name} is here but {build} is a CPU build: generation runs slowly on the CPU.",
            "run Sfumato's installer again with --torch cuda",
        )
    if not torch.cuda.is_available():
        needed = _min_driver(torch.version.cuda, system)
        return Finding(
            "GPU",
            Severity.WARNING,
            f"{build} (CUDA {torch.version.cuda}) cannot use the {gpu.name} "
            f"with driver {gpu.driver_version}.",
            f"install NVIDIA's driver {needed} or newer" if needed else REINSTALL,
        )
    major, minor = torch.cuda.get_device_capability(0)
    if not has_kernels_for((major, minor), torch.cuda.get_arch_list()):
        return Finding(
            "GPU",
            Severity.PROBLEM,
            f"{build} (CUDA {torch.version.cuda}) has no kernels for the {gpu.name} "
            f"(compute capability {major}.{minor}): generation on it fails.",
            f"{REINSTALL}, which picks the CUDA build that still supports this GPU",
        )
    return Finding(
        "GPU",
        Severity.OK,
        f"{gpu.name} (driver {gpu.driver_version}) with {build}, CUDA {torch.version.cuda}.",
    )


def has_kernels_for(capability: tuple[int, int], arch_list: Sequence[str]) -> bool:
    """Whether a build with these architectures (`sm_86`, `compute_90`…) runs on a GPU of `capability`:
    a binary of the same major version and no newer minor, or PTX of any version up to it."""
    for arch in arch_list:
        kind, _, digits = arch.partition("_")
        if not digits.isdigit():
            continue
        built = (int(digits[:-1]), int(digits[-1]))
        if kind == "sm" and built[0] == capability[0] and built[1] <= capability[1]:
            return True
        if kind == "compute" and built <= capability:
            return True
    return False


def _min_driver(cuda: str, system: str) -> str | None:
    major = cuda.split(".")[0]
    for build in gpus.CUDA_BUILDS:
        if build.cuda.split(".")[0] == major:
            return build.min_driver(system)
    return None


def check_mps() -> Finding | None:
    """On a Mac: whether PyTorch can reach the Apple GPU. None elsewhere."""
    if sys.platform != "darwin":
        return None
    import torch

    if torch.backends.mps.is_available():
        return Finding("Apple GPU", Severity.OK, "Metal (MPS) is available.")
    return Finding(
        "Apple GPU",
        Severity.WARNING,
        "Metal (MPS) is not available: generation runs on the CPU.",
        "use a Mac with Apple Silicon on macOS 14 or newer",
    )


def check_disk(folder: Path) -> Finding:
    free = storage.free_bytes(folder)
    where = f"{storage.gib(free)} free for the model cache ({folder})"
    if free < TOO_LITTLE_DISK:
        return Finding(
            "Disk",
            Severity.PROBLEM,
            f"only {where}.",
            "free some disk space, or set HF_HOME to a bigger disk",
        )
    if free < LOW_DISK:
        return Finding(
            "Disk", Severity.WARNING, f"{where}: not enough for another model.", "free space or set HF_HOME"
        )
    return Finding("Disk", Severity.OK, f"{where}.")


def check_writable(folders: Sequence[Path]) -> Finding:
    blocked = [str(folder) for folder in folders if not storage.writable(folder)]
    if blocked:
        return Finding(
            "Folders",
            Severity.PROBLEM,
            f"cannot write to {', '.join(blocked)}.",
            "fix the folders' permissions, or set SFUMATO_HOME to a folder you own",
        )
    return Finding("Folders", Severity.OK, "Sfumato can write to its folders and the model cache.")


def check_ffmpeg() -> Finding:
    try:
        import imageio_ffmpeg

        executable = imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError) as error:
        return Finding(
            "ffmpeg",
            Severity.WARNING,
            f"not found ({error}): zoom and morph videos cannot be written.",
            REINSTALL,
        )
    return Finding("ffmpeg", Severity.OK, f"{executable}.")


def check_model_cache() -> Finding:
    from sfumato.core.models.inventory import Status, list_installed

    models = list_installed()
    broken = [model for model in models if model.status is not Status.READY]
    if broken:
        named = ", ".join(f"{model.id} ({model.status.value})" for model in broken[:5])
        return Finding(
            "Models",
            Severity.WARNING,
            f"{len(models)} installed, {len(broken)} not usable: {named}.",
            "`sfumato models download ID` finishes a download; `sfumato models remove ID` drops it",
        )
    return Finding("Models", Severity.OK, f"{len(models)} installed, all complete.")


def folders() -> list[Path]:
    from sfumato.core.models.hub_cache import hub_cache_dir
    from sfumato.core.paths import cache_dir, config_dir, data_dir

    return [data_dir(), config_dir(), cache_dir(), hub_cache_dir()]


def run_checks() -> list[Finding]:
    from sfumato.core.models.hub_cache import hub_cache_dir

    checks: list[Callable[[], Finding | None]] = [
        check_torch_gpu,
        check_mps,
        qt_libraries.finding,
        lambda: check_disk(hub_cache_dir()),
        lambda: check_writable(folders()),
        check_ffmpeg,
        check_model_cache,
    ]
    return [finding for check in checks if (finding := check()) is not None]
