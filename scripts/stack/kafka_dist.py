"""Apache Kafka for the local stack: the broker's jars from Maven Central (scripts/stack/kafka/pom.xml) in a
cache inside the checkout, fetched once per version, and the java command that runs them.

`python -m scripts.stack.kafka_dist` installs them (scripts/setup.sh does); the stack also does on first use."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from scripts.stack.layout import ROOT
from scripts.stack.waiting import log

KAFKA_DIR = ROOT / "scripts" / "stack" / "kafka"
POM = KAFKA_DIR / "pom.xml"
LOG4J2_CONFIG = KAFKA_DIR / "log4j2.xml"
CACHE = ROOT / ".cache"
# Maven's own repository stays inside the checkout too: a fresh clone neither reads nor fills ~/.m2.
MAVEN_REPOSITORY = CACHE / "maven"
# Written last: a libs folder without it is an interrupted download and is fetched again.
COMPLETE_MARK = ".complete"


def kafka_version() -> str:
    """The pinned release: the pom's kafka.version property."""
    namespace = {"m": "http://maven.apache.org/POM/4.0.0"}
    version = ElementTree.parse(POM).getroot().findtext("m:properties/m:kafka.version", namespaces=namespace)
    if not version:
        raise SystemExit(f"{POM} names no kafka.version")
    return version


def libs_dir(version: str | None = None) -> Path:
    return CACHE / "kafka" / (version or kafka_version()) / "libs"


def install() -> Path:
    """The folder of the broker's jars, fetched with Maven unless this version is there already."""
    libs = libs_dir()
    if (libs / COMPLETE_MARK).exists():
        return libs
    mvn = shutil.which("mvn")
    if mvn is None:
        raise SystemExit(
            "Maven (mvn) is needed to fetch Apache Kafka: apt-get install -y maven (scripts/setup.sh does)"
        )
    partial = libs.with_name("libs.partial")
    shutil.rmtree(partial, ignore_errors=True)
    log(f"Kafka: fetching Apache Kafka {kafka_version()} and its dependencies from Maven Central into {libs.parent}")
    started = time.monotonic()
    result = subprocess.run(
        [mvn, "-q", "-B", "-f", str(POM), f"-Dmaven.repo.local={MAVEN_REPOSITORY}", "dependency:copy-dependencies",
         "-DincludeScope=runtime", f"-DoutputDirectory={partial}"],
        cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"fetching Apache Kafka with Maven failed:\n{result.stdout[-4000:]}{result.stderr[-4000:]}")
    (partial / COMPLETE_MARK).write_text(kafka_version())
    shutil.rmtree(libs, ignore_errors=True)
    partial.rename(libs)
    size = sum(jar.stat().st_size for jar in libs.glob("*.jar"))
    log(f"Kafka: {len(list(libs.glob('*.jar')))} jars, {size / 2**20:.0f} MiB, in {time.monotonic() - started:.0f}s")
    return libs


def java_binary() -> str:
    """JAVA_HOME's java, else the one on PATH (Kafka 4 needs Java 17 or newer)."""
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    if not java or not Path(java).exists():
        raise SystemExit("Java 17 or newer is needed to run Apache Kafka: apt-get install -y openjdk-17-jre-headless")
    return java


def java_argv(main_class: str, *args: str, heap: tuple[str, ...] = ()) -> list[str]:
    """A java command line running `main_class` of the broker's jars with our log4j2 configuration."""
    return [java_binary(), *heap, "-Djava.awt.headless=true", f"-Dlog4j2.configurationFile={LOG4J2_CONFIG}",
            "-cp", f"{install()}/*", main_class, *args]


if __name__ == "__main__":
    print(install())
    sys.exit(0)
