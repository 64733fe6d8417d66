"""podman configured for this machine, and the images the smoke runs: a Debian base made with debootstrap, then
Dockerfile.order and Dockerfile.delivery built on it."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from scripts.smoke.layout import BASE_IMAGE, IMAGE_TAG, IMAGES, PODMAN_DIR, RUN_DIR, log
from scripts.stack.debian import ensure_debian_package
from scripts.stack.layout import ROOT

CODECS_CHECK = ("from kafka import codec; missing = [name for name in ('snappy', 'lz4', 'zstd')"
                " if not getattr(codec, 'has_' + name)()]; assert not missing, missing")


class Podman:
    """podman with its configuration and storage under .run/podman (the toolbox's workarounds)."""

    def __init__(self):
        self.env = {**os.environ,
                    "CONTAINERS_CONF": str(PODMAN_DIR / "containers.conf"),
                    "CONTAINERS_STORAGE_CONF": str(PODMAN_DIR / "storage.conf"),
                    "TMPDIR": str(PODMAN_DIR / "tmp")}

    def configure(self) -> None:
        for sub in ("tmp", "storage", "runroot", "libpod-tmp", "volumes"):
            (PODMAN_DIR / sub).mkdir(parents=True, exist_ok=True)
        # crun fails on this machine's hybrid cgroups and the sandbox cannot raise rlimits: runc,
        # cgroupfs, file events and fixed ulimits make podman work here (and anywhere else).
        (PODMAN_DIR / "containers.conf").write_text(f"""[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
tmp_dir = "{PODMAN_DIR / 'libpod-tmp'}"
volume_path = "{PODMAN_DIR / 'volumes'}"
""")
        (PODMAN_DIR / "storage.conf").write_text(f"""[storage]
driver = "overlay"
graphroot = "{PODMAN_DIR / 'storage'}"
runroot = "{PODMAN_DIR / 'runroot'}"
""")

    def run(self, *args: str, check: bool = True, capture: bool = False, **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run(["podman", *args], env=self.env, check=check, text=True,
                              capture_output=capture, **kwargs)

    def image_exists(self, name: str) -> bool:
        return self.run("image", "exists", name, check=False).returncode == 0


def podman_available(podman: Podman) -> str | None:
    """None when podman works here, else why not."""
    if shutil.which("podman") is None:
        try:
            ensure_debian_package("podman", "podman")
            ensure_debian_package("runc", "runc")
        except SystemExit as exc:
            return f"podman is not installed and cannot be installed here ({exc})"
    podman.configure()
    result = podman.run("info", "--format", "{{.Host.OCIRuntime.Name}}", check=False, capture=True)
    if result.returncode != 0:
        return f"`podman info` fails: {result.stderr.strip()[-500:]}"
    return None


def debian_mirror() -> str:
    """The host's Debian mirror, so the base image installs from where the host does."""
    sources = Path("/etc/apt/sources.list.d/debian.sources")
    if sources.exists():
        for line in sources.read_text().splitlines():
            if line.startswith("URIs:"):
                return line.split()[1]
    return "http://deb.debian.org/debian"


def build_base_image(podman: Podman) -> None:
    """bookworm + python3 + venv (what the official slim image offers the Dockerfiles), from debootstrap."""
    if podman.image_exists(BASE_IMAGE):
        log(f"base image {BASE_IMAGE}: cached")
        return
    if os.geteuid() != 0:
        raise SystemExit("the base image is made with debootstrap and chroot, which need root: run as root (CI does)")
    debootstrap = ensure_debian_package("debootstrap", "debootstrap")
    log(f"base image {BASE_IMAGE}: debootstrap bookworm (once; about 2 minutes)")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(dir=PODMAN_DIR / "tmp") as work:
        rootfs = Path(work) / "rootfs"
        subprocess.run([debootstrap, "--variant=minbase", "--include=python3,python3-venv,ca-certificates",
                        "bookworm", str(rootfs), debian_mirror()], check=True, stdout=subprocess.DEVNULL)
        # Trust what the host trusts: pip inside the build must pass the same TLS-inspecting proxies.
        local_cas = sorted(Path("/usr/local/share/ca-certificates").glob("**/*.crt"))
        for cert in local_cas:
            shutil.copy(cert, rootfs / "usr/local/share/ca-certificates" / cert.name)
        if local_cas:
            subprocess.run(["chroot", str(rootfs), "update-ca-certificates"], check=True, capture_output=True,
                           env={**os.environ, "TMPDIR": "/tmp"})
        host_sources = Path("/etc/apt/sources.list.d/debian.sources")
        if host_sources.exists():
            shutil.copy(host_sources, rootfs / "etc/apt/sources.list.d/")
            (rootfs / "etc/apt/sources.list").unlink(missing_ok=True)
        for leftover in [*rootfs.glob("var/cache/apt/archives/*.deb"), *rootfs.glob("var/lib/apt/lists/*_*")]:
            leftover.unlink()
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        podman.run("import", "--change", "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                   "-", BASE_IMAGE, stdin=tar.stdout, stdout=subprocess.DEVNULL)
        if tar.wait() != 0:
            raise SystemExit("tar of the debootstrap root filesystem failed")
    log(f"base image built in {time.monotonic() - started:.0f}s")


def build_images(podman: Podman) -> None:
    for kind, (dockerfile, repository) in IMAGES.items():
        started = time.monotonic()
        log_path = RUN_DIR / "logs" / f"build-{kind}.log"
        with open(log_path, "w") as out:
            result = podman.run("build", "--pull=never", "--layers", "--network", "host",
                                "--build-arg", f"BASE_IMAGE={BASE_IMAGE}", "-f", dockerfile,
                                "-t", f"{repository}:{IMAGE_TAG}", ".", check=False, cwd=ROOT,
                                stdout=out, stderr=subprocess.STDOUT)
        if result.returncode != 0:
            print(log_path.read_text()[-4000:])
            raise SystemExit(f"podman build -f {dockerfile} failed; log: {log_path}")
        log(f"{repository}:{IMAGE_TAG} built in {time.monotonic() - started:.0f}s")
        # Every codec Kafka defines must decode in the image the consumer runs from (and in the other one too:
        # both install requirements.txt), or one compressed batch from another producer stops it.
        check = podman.run("run", "--rm", f"{repository}:{IMAGE_TAG}", "python", "-c", CODECS_CHECK, check=False,
                           capture=True)
        if check.returncode != 0:
            raise SystemExit(f"{repository}:{IMAGE_TAG} cannot decode every Kafka codec:\n{check.stdout}{check.stderr}")

