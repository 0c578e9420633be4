"""Finding the GPUs from the vendors' own tools, without torch, and choosing the PyTorch build for them.

Each parser takes a tool's recorded output, so the rules are tested on outputs from real machines
(several GPUs, none, an old driver) without those machines.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass

Runner = Callable[[Sequence[str]], "str | None"]

NVIDIA_SMI_QUERY = (
    "nvidia-smi",
    "--query-gpu=name,compute_cap,driver_version,memory.total",
    "--format=csv,noheader,nounits",
)
ROCMINFO = ("rocminfo",)
LSPCI = ("lspci", "-nn")
SYSCTL_CPU = ("sysctl", "-n", "machdep.cpu.brand_string")

_PCI_VENDORS = {"10de": "nvidia", "1002": "amd", "8086": "intel"}
_PCI_DISPLAY = re.compile(
    r"(VGA compatible controller|3D controller|Display controller)[^:]*:\s*(?P<name>.*?)"
    r"\s*\[(?P<vendor>[0-9a-f]{4}):(?P<device>[0-9a-f]{4})\]",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Gpu:
    vendor: str  # "nvidia", "amd", "apple" or "intel"
    name: str
    compute_capability: tuple[int, int] | None = None  # NVIDIA only
    driver_version: str | None = None
    memory_mb: int | None = None
    architecture: str | None = None  # AMD's gfx target, e.g. "gfx1100"


@dataclass(frozen=True)
class CudaBuild:
    """A CUDA build of PyTorch: which GPUs it has kernels for and the oldest driver that runs it."""

    lock: str  # the lock file's backend part: "cuda" or "cuda-legacy"
    cuda: str
    min_capability: tuple[int, int]
    min_driver_linux: str
    min_driver_windows: str

    def min_driver(self, system: str) -> str:
        return self.min_driver_windows if system == "windows" else self.min_driver_linux


# Newest first. CUDA 13 dropped Maxwell, Pascal and Volta: those GPUs get the CUDA 12.6 build.
CUDA_BUILDS = (
    CudaBuild("cuda", "13.0", (7, 5), "580.65.06", "580.88"),
    CudaBuild("cuda-legacy", "12.6", (5, 0), "525.60.13", "528.33"),
)
# ROCm builds of PyTorch have kernels for these AMD targets only.
ROCM_ARCHITECTURES = frozenset(
    {
        "gfx900",
        "gfx906",
        "gfx908",
        "gfx90a",
        "gfx942",
        "gfx1030",
        "gfx1100",
        "gfx1101",
        "gfx1102",
        "gfx1200",
        "gfx1201",
    }
)


@dataclass(frozen=True)
class BackendChoice:
    backend: str  # "cuda", "cuda-legacy", "rocm", "mps" or "cpu"
    lock: str  # the lock file's name without ".txt", e.g. "linux-cuda"
    reason: str  # one sentence for the person installing
    problem: str | None = None  # set when a GPU was found but cannot be used, with what to do


def version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version))


def parse_nvidia_smi(output: str) -> list[Gpu]:
    """GPUs from `nvidia-smi --query-gpu=name,compute_cap,driver_version,memory.total --format=csv,...`."""
    gpus = []
    for line in output.splitlines():
        fields = [field.strip() for field in line.split(",")]
        if len(fields) < 3 or not fields[0]:
            continue
        capability = None
        if re.fullmatch(r"\d+\.\d+", fields[1]):
            major, minor = fields[1].split(".")
            capability = (int(major), int(minor))
        memory = int(fields[3]) if len(fields) > 3 and fields[3].isdigit() else None
        driver = fields[2] if re.fullmatch(r"[\d.]+", fields[2]) else None
        gpus.append(Gpu("nvidia", fields[0], capability, driver, memory))
    return gpus


def parse_rocminfo(output: str) -> list[Gpu]:
    """AMD GPUs from `rocminfo`: the agents whose device type is GPU."""
    gpus = []
    for agent in re.split(r"\n\*{5,}\s*\nAgent \d+", output)[1:]:
        fields: dict[str, str] = {}
        for key, value in re.findall(r"^[ \t]*([A-Za-z ]+?):[ \t]+(.*?)[ \t]*$", agent, re.MULTILINE):
            fields.setdefault(key, value)  # the agent's own Name comes before its ISA's
        if fields.get("Device Type") != "GPU":
            continue
        architecture = fields.get("Name", "")
        gpus.append(Gpu("amd", fields.get("Marketing Name") or architecture, architecture=architecture))
    return gpus


def parse_lspci(output: str) -> list[Gpu]:
    """Display controllers from `lspci -nn`, told apart by their PCI vendor ID."""
    gpus = []
    for line in output.splitlines():
        match = _PCI_DISPLAY.search(line)
        if match and match["vendor"].lower() in _PCI_VENDORS:
            gpus.append(Gpu(_PCI_VENDORS[match["vendor"].lower()], match["name"]))
    return gpus


def parse_apple(machine: str, cpu_brand: str | None) -> list[Gpu]:
    """The Apple GPU from `uname -m` and `sysctl -n machdep.cpu.brand_string` on a Mac."""
    if machine.lower() in ("arm64", "aarch64") and (cpu_brand or "Apple").startswith("Apple"):
        return [Gpu("apple", f"{cpu_brand or 'Apple Silicon'} GPU")]
    return []


def run_tool(command: Sequence[str]) -> str | None:
    """A tool's output, or None when it is not installed, fails or hangs."""
    if shutil.which(command[0]) is None:
        return None
    try:
        done = subprocess.run(list(command), capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def detect_gpus(system: str, machine: str, run: Runner = run_tool) -> list[Gpu]:
    """The GPUs on this computer. `system` is "linux", "windows" or "macos"; `machine` is `uname -m`."""
    if system == "macos":
        return parse_apple(machine, (run(SYSCTL_CPU) or "").strip() or None)
    gpus = parse_nvidia_smi(run(NVIDIA_SMI_QUERY) or "")
    if system == "linux":
        gpus += parse_rocminfo(run(ROCMINFO) or "")
        listed = parse_lspci(run(LSPCI) or "")
        # lspci names the cards the vendors' tools missed (no driver, or no ROCm yet).
        gpus += [gpu for gpu in listed if not any(known.vendor == gpu.vendor for known in gpus)]
    return gpus


def choose_backend(gpus: Sequence[Gpu], system: str, machine: str) -> BackendChoice:
    """The PyTorch build to install for these GPUs, with the reason, or the CPU build and why."""
    if system == "macos":
        if any(gpu.vendor == "apple" for gpu in gpus):
            return BackendChoice(
                "mps", "macos", "Apple Silicon: PyTorch runs on its GPU through Metal (MPS)."
            )
        return BackendChoice(
            "cpu",
            "macos",
            "No Apple Silicon GPU found.",
            "PyTorch no longer supports Intel Macs; Sfumato needs a Mac with Apple Silicon (M1 or newer).",
        )
    nvidia = [gpu for gpu in gpus if gpu.vendor == "nvidia"]
    if nvidia:
        return _choose_cuda(nvidia, system)
    amd = [gpu for gpu in gpus if gpu.vendor == "amd"]
    if amd and system == "linux":
        return _choose_rocm(amd)
    return BackendChoice("cpu", f"{system}-cpu", _no_gpu_reason(gpus, system))


def _choose_cuda(nvidia: Sequence[Gpu], system: str) -> BackendChoice:
    gpu = max(nvidia, key=lambda g: (g.compute_capability or (0, 0), g.memory_mb or 0))
    if gpu.driver_version is None:
        return BackendChoice(
            "cpu",
            f"{system}-cpu",
            f"Found {gpu.name}, but its driver is not answering.",
            f"Install NVIDIA's driver {CUDA_BUILDS[0].min_driver(system)} or newer for the {gpu.name}, "
            "then run the installer again to use the GPU.",
        )
    capability = gpu.compute_capability or (0, 0)
    # A driver too old to report the capability is judged by its version alone.
    capable = [b for b in CUDA_BUILDS if gpu.compute_capability is None or capability >= b.min_capability]
    if not capable:
        return BackendChoice(
            "cpu",
            f"{system}-cpu",
            f"Found {gpu.name} (compute capability {capability[0]}.{capability[1]}).",
            f"The {gpu.name} is older than any GPU PyTorch supports (compute capability "
            f"{CUDA_BUILDS[-1].min_capability[0]}.{CUDA_BUILDS[-1].min_capability[1]} or newer): "
            "Sfumato uses the CPU.",
        )
    driver = version_tuple(gpu.driver_version)
    for build in capable:
        if driver >= version_tuple(build.min_driver(system)):
            return BackendChoice(
                build.lock,
                f"{system}-{build.lock}",
                f"Found {gpu.name} with driver {gpu.driver_version}: PyTorch's CUDA {build.cuda} build.",
            )
    oldest = min(capable, key=lambda build: version_tuple(build.min_driver(system)))
    return BackendChoice(
        "cpu",
        f"{system}-cpu",
        f"Found {gpu.name} with driver {gpu.driver_version}.",
        f"NVIDIA driver {gpu.driver_version} is too old for PyTorch: install driver "
        f"{oldest.min_driver(system)} or newer, then run the installer again to use the GPU.",
    )


def _choose_rocm(amd: Sequence[Gpu]) -> BackendChoice:
    usable = [gpu for gpu in amd if gpu.architecture in ROCM_ARCHITECTURES]
    if usable:
        gpu = usable[0]
        return BackendChoice(
            "rocm", "linux-rocm", f"Found {gpu.name} ({gpu.architecture}): PyTorch's ROCm build."
        )
    gpu = amd[0]
    if gpu.architecture:
        problem = (
            f"PyTorch's ROCm build has no kernels for the {gpu.name} ({gpu.architecture}): "
            "Sfumato uses the CPU."
        )
    else:
        problem = (
            f"Found {gpu.name}, but ROCm is not installed (`rocminfo` did not answer): install AMD's ROCm, "
            "then run the installer again with --torch rocm."
        )
    return BackendChoice("cpu", "linux-cpu", f"Found {gpu.name}.", problem)


def _no_gpu_reason(gpus: Sequence[Gpu], system: str) -> str:
    if gpus:
        names = ", ".join(gpu.name for gpu in gpus)
        return f"Only {names} found, which PyTorch cannot use on {system}: the CPU build (slow but complete)."
    return "No NVIDIA or AMD GPU found: the CPU build (slow but complete)."
