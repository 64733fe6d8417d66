# The acceptance suite as an image: the in-cluster Job (k8s/acceptance-job.yaml) and skaffold's `ci`
# verify stage run it against the ingress. Black-box: it holds the tests only, none of the services.
ARG BASE_IMAGE=python:3.11-slim-bookworm
FROM ${BASE_IMAGE}
# Debian's Chromium for the web UI cases (the suite never downloads a browser); Playwright's bundled
# node needs libatomic.
RUN apt-get update \
 && apt-get install -y --no-install-recommends chromium libatomic1 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --uid 10001 --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin suite
RUN python3 -m venv /opt/venv
COPY k8s/acceptance-requirements.txt /tmp/acceptance-requirements.txt
RUN /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check -r /tmp/acceptance-requirements.txt
# Reports and Chromium's profile go to /tmp (an emptyDir in the Job): the root filesystem is read-only.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    TEST_RESULTS=/tmp/test-results
WORKDIR /suite
COPY pyproject.toml ./
COPY tests/__init__.py tests/
COPY tests/acceptance tests/acceptance
USER 10001:10001
CMD ["python", "-m", "pytest", "tests/acceptance", "-q", "-p", "no:cacheprovider"]
