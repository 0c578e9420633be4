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

function Invoke-Quietly([string]$Program, [string[]]$Arguments, [switch]$Capture) {
    # Windows PowerShell 5.1 makes a native command's redirected stderr a terminating error under
    # 'Stop'; here stderr is dropped (or, with -Capture, returned) and $LASTEXITCODE tells the outcome.
    $ErrorActionPreference = 'Continue'
    if ($Capture) {
        & $Program @Arguments 2>&1 | ForEach-Object { "$_" }
    } else {
        & $Program @Arguments 2>$null
    }
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
    $env:UV_PYTHON_DOWNLOADS = 'manual'
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
if ($drive.AvailableFreeSpace -lt 1gb) { Fail "$parent has less than 1 GB free; Sfumato needs 3 GB or more" }

$uvFolder = Join-Path $Prefix 'uv'
New-Item -ItemType Directory -Force -Path $uvFolder | Out-Null
$uv = Join-Path $uvFolder 'uv.exe'
$wantedUv = Get-Version 'UV_VERSION'
$haveUv = if (Test-Path $uv) { ((& $uv --version) -split ' ')[1] } else { '' }
if ($haveUv -ne $wantedUv) {
    $url, $digest = (Get-Version 'UV_WINDOWS_AMD64') -split ' '
    $wheel = Join-Path $uvFolder ([System.IO.Path]::GetFileName($url))
    if ($Offline) {
        $bundled = Join-Path $Offline "uv\$([System.IO.Path]::GetFileName($url))"
        if (-not (Test-Path $bundled)) { Fail 'the bundle has no uv for this platform' }
        Copy-Item $bundled $wheel
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

# A private Python installed by uv: from the bundle's copy of its download (a file:// mirror laid out
# as uv asks for it) or from the network; else a Python of this system that fits, said in one line.
$pythonVersion = Get-Version 'PYTHON_VERSION'
$env:UV_PYTHON_INSTALL_DIR = Join-Path $Prefix 'python'
$noPrivate = ''
if ($Offline) {
    $mirror = Join-Path $Offline 'python-mirror'
    if (Test-Path $mirror) {
        $env:UV_PYTHON_INSTALL_MIRROR = ([System.Uri]$mirror).AbsoluteUri
    } else {
        $noPrivate = 'the bundle carries no Python build'
    }
}
$python = Invoke-Quietly $uv @('python', 'find', '--managed-python', $pythonVersion)
if ($LASTEXITCODE -ne 0) {
    if (-not $noPrivate) {
        $said = Invoke-Quietly $uv @('python', 'install', $pythonVersion) -Capture
        $python = Invoke-Quietly $uv @('python', 'find', '--managed-python', $pythonVersion)
        if ($LASTEXITCODE -ne 0) {
            # uv's first cause names the problem: the download out of reach, or a damaged file.
            $cause = @($said | Where-Object { $_ -match '^\s*cause: ' }) | Select-Object -First 1
            if ($cause) { $cause = $cause -replace '^\s*cause: ', '' } else { $cause = 'its install left no Python that runs' }
            $noPrivate = "uv could not install its Python ${pythonVersion}: $cause"
        }
    }
    if ($noPrivate) {
        $python = Invoke-Quietly $uv @('python', 'find', '--system', $pythonVersion)
        if ($LASTEXITCODE -ne 0) { Fail "no Python ${pythonVersion}: $noPrivate, and this system has none" }
        Write-Host "sfumato-install: $noPrivate; using this system's Python ${pythonVersion}: $python"
    }
}
Set-Content -Path (Join-Path $Prefix 'python-path') -Value $python

& $python (Join-Path $Here 'install.py') --prefix $Prefix --uv $uv --python $python @forward
exit $LASTEXITCODE
