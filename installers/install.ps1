<#
.SYNOPSIS
Install, update or remove Sfumato on Windows.

.DESCRIPTION
Brings uv (a checked wheel from PyPI, or the offline bundle's) and a Python through it, then runs
install.py, which checks the computer, picks the PyTorch build for its GPU and installs from the
lock file. Running it again updates in place; a failed update keeps the previous installation.

.EXAMPLE
powershell -ExecutionPolicy Bypass -File installers\install.ps1
powershell -ExecutionPolicy Bypass -File installers\install.ps1 -Torch cpu -Yes
powershell -ExecutionPolicy Bypass -File installers\install.ps1 -Offline D:\sfumato-windows-cuda
powershell -ExecutionPolicy Bypass -File installers\install.ps1 -Uninstall
#>
[CmdletBinding()]
param(
    [string]$Prefix = (Join-Path $env:LOCALAPPDATA 'Programs\Sfumato'),
    [ValidateSet('auto', 'cuda', 'rocm', 'mps', 'cpu')][string]$Torch = 'auto',
    [string]$Source,
    [string]$Offline,
    [switch]$Yes,
    [switch]$NoDesktop,
    [switch]$Uninstall,
    [switch]$Purge
)

$ErrorActionPreference = 'Stop'
$Here = Split-Path -Parent $MyInvocation.MyCommand.Path

function Fail([string]$Message) {
    Write-Host "sfumato-install: error: $Message" -ForegroundColor Red
    exit 1
}

function Get-Version([string]$Name) {
    $line = Get-Content (Join-Path $Here 'versions.env') | Where-Object { $_ -like "$Name=*" } | Select-Object -First 1
    if (-not $line) { Fail "versions.env has no $Name" }
    return $line.Substring($Name.Length + 1)
}

$Prefix = [System.IO.Path]::GetFullPath($Prefix)

if ($Uninstall) {
    $pythonPath = Join-Path $Prefix 'python-path'
    if (-not (Test-Path $pythonPath)) { Fail "no Sfumato installation in $Prefix" }
    $python = (Get-Content $pythonPath -TotalCount 1).Trim()
    $arguments = @((Join-Path $Prefix 'installer\installers\install.py'), '--uninstall', '--prefix', $Prefix)
    if ($Purge) { $arguments += '--purge' }
    & $python @arguments
    exit $LASTEXITCODE
}

$forward = @('--torch', $Torch)
if ($Source) { $forward += @('--source', $Source) }
if ($Yes) { $forward += '--yes' }
if ($NoDesktop) { $forward += '--no-desktop' }
if ($Offline) {
    if ($Offline -like '*.zip') {
        $unpacked = $Offline.Substring(0, $Offline.Length - 4)
        if (-not (Test-Path $unpacked)) { Expand-Archive -Path $Offline -DestinationPath (Split-Path -Parent $Offline) }
        $Offline = $unpacked
    }
    if (-not (Test-Path (Join-Path $Offline 'wheels'))) { Fail "$Offline is not a bundle made by bundle.sh (no wheels folder)" }
    $Offline = (Resolve-Path $Offline).Path
    $forward += @('--offline', $Offline)
    $env:UV_OFFLINE = '1'
    $env:UV_PYTHON_DOWNLOADS = 'never'
}

# Before any download: the prefix must be writable and have room for uv and Python.
$parent = $Prefix
while (-not (Test-Path $parent)) { $parent = Split-Path -Parent $parent }
try {
    $probe = Join-Path $parent ('.sfumato-write-check-' + [guid]::NewGuid())
    New-Item -ItemType File -Path $probe | Out-Null
    Remove-Item $probe
} catch {
    Fail "cannot write to ${parent}: choose another -Prefix, or fix its permissions"
}
$drive = New-Object System.IO.DriveInfo ([System.IO.Path]::GetPathRoot($parent))
if ($drive.AvailableFreeSpace -lt 1GB) { Fail "$parent has less than 1 GB free; Sfumato needs 3 GB or more" }

$uvFolder = Join-Path $Prefix 'uv'
New-Item -ItemType Directory -Force -Path $uvFolder | Out-Null
$uv = Join-Path $uvFolder 'uv.exe'
$wantedUv = Get-Version 'UV_VERSION'
$haveUv = if (Test-Path $uv) { ((& $uv --version) -split ' ')[1] } else { '' }
if ($haveUv -ne $wantedUv) {
    $url, $digest = (Get-Version 'UV_WINDOWS_AMD64') -split ' '
    $wheel = Join-Path $uvFolder ([System.IO.Path]::GetFileName($url))
    if ($Offline) {
        Copy-Item (Join-Path $Offline "uv\$([System.IO.Path]::GetFileName($url))") $wheel
    } else {
        Write-Host "sfumato-install: downloading uv $wantedUv"
        try {
            Invoke-WebRequest -Uri $url -OutFile $wheel -UseBasicParsing
        } catch {
            Fail 'could not download uv from PyPI; check the network, or use -Offline BUNDLE'
        }
    }
    if ((Get-FileHash -Algorithm SHA256 $wheel).Hash.ToLower() -ne $digest) {
        Remove-Item $wheel
        Fail "uv's download is damaged (wrong checksum)"
    }
    $zip = "$wheel.zip"
    Move-Item -Force $wheel $zip
    $scratch = Join-Path $uvFolder 'unpacked'
    Expand-Archive -Force -Path $zip -DestinationPath $scratch
    Copy-Item -Force (Get-ChildItem -Recurse -Path $scratch -Filter 'uv.exe' | Select-Object -First 1).FullName $uv
    Remove-Item -Recurse -Force $scratch, $zip
}

# A private Python: the bundle's, uv's managed build, or else a Python of this system that fits.
$pythonVersion = Get-Version 'PYTHON_VERSION'
$env:UV_PYTHON_INSTALL_DIR = Join-Path $Prefix 'python'
if ($Offline -and (Test-Path (Join-Path $Offline 'python')) -and -not (Test-Path $env:UV_PYTHON_INSTALL_DIR)) {
    Copy-Item -Recurse (Join-Path $Offline 'python') $env:UV_PYTHON_INSTALL_DIR
}
$python = & $uv python find --managed-python $pythonVersion 2>$null
if ($LASTEXITCODE -ne 0) {
    & $uv python install --quiet $pythonVersion 2>$null
    $python = & $uv python find --managed-python $pythonVersion 2>$null
    if ($LASTEXITCODE -ne 0) {
        $python = & $uv python find --system $pythonVersion 2>$null
        if ($LASTEXITCODE -ne 0) { Fail "no Python ${pythonVersion}: uv could not download one and this system has none" }
        Write-Host "sfumato-install: uv's own Python was out of reach; using this system's $python"
    }
}
Set-Content -Path (Join-Path $Prefix 'python-path') -Value $python

& $python (Join-Path $Here 'install.py') --prefix $Prefix --uv $uv --python $python @forward
exit $LASTEXITCODE
